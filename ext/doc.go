// Package ext holds libwalguard, the walguard protocol as a SQLite loadable
// extension in C, for the clients that cannot use the Go shim: Python's
// sqlite3, the sqlite3 CLI, C programs. It is built with the system C
// compiler against the system SQLite headers:
//
//	cc -std=c11 -O2 -fPIC -shared -o libwalguard.so ext/src/*.c -lpthread
//
// and loaded with .load ./libwalguard (CLI), conn.load_extension (Python)
// or sqlite3_load_extension (C); it registers the VFS "walguard" over the
// default VFS. The Go package has no code: its tests build the extension
// and run the C, CLI and Python interop tests (see README.md, "Other
// languages").
package ext
