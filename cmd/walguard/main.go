// Command walguard looks at SQLite databases shared by several processes.
//
// Usage:
//
//	walguard <command> [flags] [arguments]
//
// The commands are:
//
//	check DB    report the journal mode, files, sidecar and locks of a database, and any hazard
//	stress      multi-process torture run: kills, faults, mixed journal modes and locking protocols
//
// Run "walguard <command> -h" for a command's flags and exit codes. Flags
// may come before or after a command's arguments.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Exit codes shared by every command.
const (
	exitOK    = 0 // success; for check, consistent
	exitFound = 1 // for check, a hazard was found
	exitUsage = 2 // a usage error, or the input cannot be read
)

// A command is one subcommand: walguard NAME ARGS...
type command struct {
	name    string
	summary string // one line for the command list
	// run executes the command with the arguments after its name and
	// returns the exit code.
	run func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands. Each file of this package that adds one
// (check.go, stress.go, ...) registers it from an init function; it is
// never changed after initialisation.
var commands []command

// register adds a subcommand; it is called only from init functions.
func register(c command) {
	commands = append(commands, c)
	slices.SortFunc(commands, func(a, b command) int { return strings.Compare(a.name, b.name) })
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args to a subcommand and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "walguard: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: walguard <command> [flags] [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"walguard <command> -h\" for a command's flags and exit codes.\n")
}
