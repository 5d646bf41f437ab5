package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

// newDB creates a database in a fresh directory and runs sql on it. With
// keepOpen, the connection stays open until the test ends.
func newDB(t *testing.T, keepOpen bool, sql string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.db")
	c, err := sqlite3.Open("file:" + path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(sql); err != nil {
		t.Fatal(err)
	}
	if keepOpen {
		t.Cleanup(func() { c.Close() })
	} else if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckExitCodes(t *testing.T) {
	consistent := newDB(t, true, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1)")

	garbage := newDB(t, false, "CREATE TABLE t(x)")
	if err := os.WriteFile(garbage+sidecar.SidecarSuffix, []byte(strings.Repeat("garbage!", 64)), 0o644); err != nil {
		t.Fatal(err)
	}

	notDB := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 10)), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		path    string
		code    int
		verdict string // in the report; "" for none
		stderr  string
	}{
		{"consistent live wal", consistent, exitOK, lockcheck.VerdictConsistent, ""},
		{"garbage sidecar", garbage, exitFound, lockcheck.VerdictHazard, ""},
		{"not a database", notDB, exitUsage, "", "cannot read database"},
		{"missing", filepath.Join(t.TempDir(), "missing.db"), exitUsage, "", "cannot read database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI("check", tc.path)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
			if tc.verdict != "" && !strings.Contains(stdout, "\nverdict: "+tc.verdict) {
				t.Fatalf("text report lacks verdict %q:\n%s", tc.verdict, stdout)
			}

			code, stdout, _ = runCLI("check", "-json", tc.path)
			if code != tc.code {
				t.Fatalf("-json: exit %d, want %d", code, tc.code)
			}
			if tc.verdict == "" {
				if stdout != "" {
					t.Fatalf("-json wrote a report for an unreadable database: %q", stdout)
				}
				return
			}
			var report struct {
				Path    string             `json:"path"`
				Verdict string             `json:"verdict"`
				Hazards []lockcheck.Hazard `json:"hazards"`
			}
			if err := json.Unmarshal([]byte(stdout), &report); err != nil {
				t.Fatalf("-json output does not parse: %v\n%s", err, stdout)
			}
			if report.Verdict != tc.verdict || report.Path != tc.path || (len(report.Hazards) > 0) != (tc.code == exitFound) {
				t.Fatalf("-json report: %+v", report)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		json bool
	}{
		{[]string{"a.db"}, []string{"a.db"}, false},
		{[]string{"-json", "a.db"}, []string{"a.db"}, true},
		{[]string{"a.db", "-json"}, []string{"a.db"}, true},
		{[]string{"a.db", "-json", "b.db"}, []string{"a.db", "b.db"}, true},
		{[]string{"a.db", "--", "-json"}, []string{"a.db", "-json"}, false},
		{nil, nil, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *asJSON != tc.json {
			t.Errorf("parseInterspersed(%q) = %q, json %v, %v; want %q, json %v", tc.args, pos, *asJSON, err, tc.pos, tc.json)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	db := newDB(t, false, "CREATE TABLE t(x)")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"help", []string{"check", "-h"}, exitOK, "Exit codes:", ""},
		{"no database", []string{"check"}, exitUsage, "", "want exactly one database, got 0"},
		{"two databases", []string{"check", db, db}, exitUsage, "", "got 2"},
		{"unknown flag", []string{"check", "-frob", db}, exitUsage, "", "flag provided but not defined: -frob"},
		{"flag after the database", []string{"check", db, "-json"}, exitOK, `"verdict": "consistent"`, ""},
		{"flag before the database", []string{"check", "-json", db}, exitOK, `"verdict": "consistent"`, ""},
		{"unknown flag after the database", []string{"check", db, "-frob"}, exitUsage, "", "flag provided but not defined: -frob"},
		{"-h after the database", []string{"check", db, "-h"}, exitOK, "Exit codes:", ""},
		{"a database named like a flag after --", []string{"check", "--", "-json"}, exitUsage, "", "cannot read database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// The "sidecar" object of check -json is the one PRAGMA walguard_status
// answers: one type (sidecar.Status), one builder, one schema version.
func TestCheckSidecarMatchesStatusPragma(t *testing.T) {
	const name = "walguard-check-status"
	wgvfs.Register(name, wgvfs.Options{})
	t.Cleanup(func() { vfs.Unregister(name) })
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.db")
	first := sqltest.Open(t, "file:"+path+"?vfs="+name)
	sqltest.Exec(t, first, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	second := sqltest.Open(t, "file:"+path+"?vfs="+name)
	sqltest.Exec(t, second, "INSERT INTO t VALUES(2)")

	var pragma struct{ Sidecar json.RawMessage }
	if err := json.Unmarshal([]byte(sqltest.Query(t, second, "PRAGMA walguard_status")), &pragma); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI("check", "-json", path)
	if code != exitOK {
		t.Fatalf("check -json: exit %d: %s%s", code, stderr, stdout)
	}
	var check struct{ Sidecar json.RawMessage }
	if err := json.Unmarshal([]byte(stdout), &check); err != nil {
		t.Fatal(err)
	}

	var fromPragma, fromCheck map[string]any
	if err := json.Unmarshal(pragma.Sidecar, &fromPragma); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(check.Sidecar, &fromCheck); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromPragma, fromCheck) {
		t.Fatalf("the sidecar objects differ:\npragma: %s\ncheck:  %s", pragma.Sidecar, check.Sidecar)
	}
	if fromCheck["schema"] != float64(sidecar.StatusSchema) {
		t.Fatalf("schema = %v, want %d", fromCheck["schema"], sidecar.StatusSchema)
	}
	if parts, _ := fromCheck["participants"].([]any); len(parts) != 1 {
		t.Fatalf("participants %v, want this process, whose two connections share its slot", fromCheck["participants"])
	}
}
