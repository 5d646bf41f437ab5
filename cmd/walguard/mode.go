package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

func init() {
	register(command{name: "mode", summary: "print a database's journal mode, or change it deliberately (the way to leave WAL)", run: runMode})
}

const modeUsage = `usage: walguard mode [-wait D] DB [wal|delete|truncate|persist|memory|off]

Without a mode, mode prints the journal family the header says and the
mode the sidecar's record agreed, with who set it, when and why.

With a mode, it changes the journal mode deliberately: the way to leave
WAL, which a plain PRAGMA journal_mode through walguard refuses, and the
way to try WAL again where a lock fault settled the rollback family. It
refuses while any other connection is open on the database (walguard's
or, through SQLite's own locks, any other), makes the change through
walguard, and records it with "operator" as the reason, this process and
the time.

Flags:
  -wait D   how long to wait for other connections to close (default 5s)

Exit codes:
  0  done (or printed)
  1  refused: other connections are open, or SQLite could not make the change
  2  usage error, or the database cannot be read
`

// runMode is "walguard mode".
func runMode(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	wait := fs.Duration("wait", wgvfs.DefaultOperatorWait, "how long to wait for other connections")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, modeUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "\n%s", modeUsage)
		return exitUsage
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fmt.Fprintf(stderr, "walguard mode: want a database and at most one mode, got %d arguments\n\n%s", fs.NArg(), modeUsage)
		return exitUsage
	}
	db := fs.Arg(0)
	if _, err := os.Stat(db); err != nil {
		fmt.Fprintf(stderr, "walguard mode: %v\n", err)
		return exitUsage
	}
	if fs.NArg() == 1 {
		return printMode(db, stdout, stderr)
	}
	mode, ok := policy.ParseJournalModeName(fs.Arg(1))
	if !ok {
		fmt.Fprintf(stderr, "walguard mode: unknown journal mode %q\n\n%s", fs.Arg(1), modeUsage)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(*wait, time.Millisecond))
	defer cancel()
	g := wgvfs.New(wgvfs.Options{})
	if err := g.SetJournalMode(ctx, db, mode); err != nil {
		fmt.Fprintf(stderr, "walguard mode: %v\n", err)
		return exitFound
	}
	fmt.Fprintf(stdout, "%s: journal_mode=%s, recorded as a deliberate change by this operator\n", db, mode)
	return exitOK
}

// printMode prints the header's family and the agreed record.
func printMode(db string, stdout, stderr io.Writer) int {
	report, err := lockcheck.Inspect(db)
	if err != nil {
		fmt.Fprintf(stderr, "walguard mode: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "header  %s (bytes 18/19 = %d/%d)\n", report.Header.Family, report.Header.WriteVersion, report.Header.ReadVersion)
	switch rec := report.Sidecar.Record; {
	case rec != nil:
		fmt.Fprintf(stdout, "record  %s\n", rec)
	case !report.Sidecar.Exists:
		fmt.Fprintf(stdout, "record  none: no walguard program has opened it (%s)\n", sidecar.SidecarPath(db))
	default:
		fmt.Fprintf(stdout, "record  unreadable: %s\n", report.Sidecar.RecordError)
	}
	return exitOK
}
