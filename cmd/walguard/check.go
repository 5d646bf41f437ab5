package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/walguard/walguard/lockcheck"
)

func init() {
	register(command{name: "check", summary: "what lsof would be for SQLite: journal mode, files, sidecar, locks, hazards", run: runCheck})
}

const checkUsage = `usage: walguard check [-json] DB

Flags may come before or after DB.

Check reports on one SQLite database without disturbing it: the header
(page size, journal family, counters, the SQLite version that wrote it),
the -wal, -shm and -journal files, walguard's sidecar (DB-walguard) and
its live participants, and on Linux every kernel lock on those files with
the process that holds it, and the participants without walguard (processes
holding SQLite's own locks with no slot: python, the sqlite3 CLI, ...). A
symbolic link is resolved as SQLite resolves it. It then names each hazard
it sees, with what to do: mixed lock kinds, WAL across hosts, a header that
disagrees with the agreed mode, a hot journal, a bad sidecar, participants
that disagree, a sidecar replaced while in use, a database with several
names (hard links).

Check only reads. It opens files read-only, never creates one, never takes
a lock (it tests the sidecar's lock bytes, and their mirror on the
database, with F_OFD_GETLK and reads /proc/locks), so it cannot stall the
application.

Flags:
  -json   print the report as JSON (stable lower-case keys) instead of text

Exit codes:
  0  consistent: no hazard found
  1  at least one hazard found (listed in the report)
  2  the database cannot be read (missing, not SQLite), or a usage error
`

// runCheck is "walguard check".
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: to stdout for -h, to stderr for a mistake
	asJSON := fs.Bool("json", false, "print the report as JSON")
	dbs, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, checkUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "\n%s", checkUsage)
		return exitUsage
	}
	if len(dbs) != 1 {
		fmt.Fprintf(stderr, "walguard check: want exactly one database, got %d arguments %q\n\n%s", len(dbs), dbs, checkUsage)
		return exitUsage
	}
	report, err := lockcheck.Inspect(dbs[0])
	if err != nil {
		fmt.Fprintf(stderr, "walguard check: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "walguard check: write report: %v\n", err)
		return exitUsage
	}
	if !report.Consistent() {
		return exitFound
	}
	return exitOK
}
