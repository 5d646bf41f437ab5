package lockcheck

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/walguard/walguard/internal/testproc"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// helperEnv carries "KIND:PATH" to a child running TestHelperProcess.
const helperEnv = "WALGUARD_LOCKCHECK_HELPER"

func TestMain(m *testing.M) {
	testproc.Dispatch(map[string]func(){"lockholder": lockHolder})
	os.Exit(testproc.RunInPrivateTemp(m.Run))
}

// lockHolder runs as a child of startLockHolder: it takes a lock of the
// kind its environment names on a file, prints "ready", and holds the lock
// until its standard input closes.
func lockHolder() {
	spec := os.Getenv(helperEnv)
	kind, path, _ := strings.Cut(spec, ":")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	switch kind {
	case KindFlock:
		err = unix.Flock(int(f.Fd()), unix.LOCK_SH)
	case KindPOSIX: // SQLite's SHARED, as C SQLite takes it
		err = unix.FcntlFlock(f.Fd(), unix.F_SETLK, &unix.Flock_t{Type: unix.F_RDLCK, Start: SharedFirst, Len: SharedSize})
	default:
		err = fmt.Errorf("unknown lock kind %q", kind)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("ready")
	testproc.WaitForEOF()
}

// startLockHolder runs a child process that holds a lock of the given
// kind on path, waits for it to say so, and ends it when the test ends.
func startLockHolder(t *testing.T, kind, path string) int {
	t.Helper()
	c := testproc.Start(t, os.Args[0], "lockholder", helperEnv+"="+kind+":"+path)
	c.Expect("ready")
	t.Cleanup(func() { c.Wait() })
	return c.Pid()
}

// findLock returns the first lock on file with the given kind and range.
func findLock(r *Report, file, kind, rng string) (Lock, bool) {
	for _, l := range r.Locks {
		if l.File == file && l.Kind == kind && l.Range == rng {
			return l, true
		}
	}
	return Lock{}, false
}

func TestInspectMixedLockKinds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		children []string // lock kinds held by child processes
		ncruces  bool     // this process reads inside a transaction: SHARED by OFD
		want     []string
	}{
		{"flock child and ofd connection", []string{KindFlock}, true, []string{HazardMixedLockKinds}},
		{"flock and posix children", []string{KindFlock, KindPOSIX}, false, []string{HazardMixedLockKinds}},
		{"posix child and ofd connection see each other", []string{KindPOSIX}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t, "CREATE TABLE t(x)", "INSERT INTO t VALUES(1)")
			if tc.ncruces {
				openDB(t, db, "BEGIN", "SELECT * FROM t")
			}
			pids := map[string]int{}
			for _, kind := range tc.children {
				pids[kind] = startLockHolder(t, kind, db)
			}
			r := inspectUntil(t, db, func(r *Report) string {
				for kind, pid := range pids {
					rng := "SHARED"
					if kind == KindFlock {
						rng = "whole file"
					}
					l, ok := findLock(r, RoleDB, kind, rng)
					if !ok || l.PID != pid || l.Command == "" || l.Access != "read" {
						return fmt.Sprintf("no %s %s read lock by child pid %d: %+v", kind, rng, pid, r.Locks)
					}
					if len(r.Hazards) > 0 && !strings.Contains(r.Hazards[0].Message, fmt.Sprintf("pid %d (%s", pid, l.Command)) {
						return fmt.Sprintf("hazard %q does not name the holder pid %d (%s)", r.Hazards[0].Message, pid, l.Command)
					}
				}
				if tc.ncruces {
					l, ok := findLock(r, RoleDB, KindOFD, "SHARED")
					if !ok || l.PID != os.Getpid() || l.Command != processName(os.Getpid()) {
						return fmt.Sprintf("the OFD SHARED lock of this process (pid %d) is not attributed to it: %+v", os.Getpid(), r.Locks)
					}
				}
				return ""
			})
			wantHazards(t, r, tc.want...)
		})
	}
}

// captureJournal makes a rollback database, and copies its -journal aside
// while a write transaction is open. It checks on the way that the
// journal is not hot while its writer holds RESERVED.
//
// SQLite writes the journal's magic only when it syncs the journal, just
// before it writes the database; a cache too small for the transaction
// makes it do so mid-transaction (a cache spill).
func captureJournal(t *testing.T) []byte {
	t.Helper()
	db := newDB(t, "CREATE TABLE t(x)", "INSERT INTO t VALUES(1)")
	c := openDB(t, db, "PRAGMA cache_size=2", "BEGIN",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100) INSERT INTO t SELECT zeroblob(1000) FROM n")
	journal, err := os.ReadFile(db + "-journal")
	if err != nil {
		t.Fatal(err)
	}
	if len(journal) == 0 || journal[0] == 0 {
		t.Fatalf("journal of an open transaction has no header: %d bytes", len(journal))
	}

	r := inspect(t, db)
	wantHazards(t, r)
	if !r.Journal.Exists || !r.Journal.MagicOK || r.Journal.Hot != HotNo || !strings.Contains(r.Journal.HotReason, "RESERVED") {
		t.Fatalf("journal of a live writer: %+v", r.Journal)
	}
	reserved := false
	for _, l := range r.Locks {
		reserved = reserved || (l.File == RoleDB && l.Kind == KindOFD && l.Access == "write" && l.PID == os.Getpid() &&
			l.Start <= ReservedByte && ReservedByte <= l.End)
	}
	if !reserved {
		t.Fatalf("no write lock on RESERVED by this process: %+v", r.Locks)
	}

	if err := c.Exec("ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return journal
}

func TestInspectHotJournal(t *testing.T) {
	journal := captureJournal(t)
	for _, tc := range []struct {
		name string
		sql  []string
		want string
	}{
		{"rollback header", []string{"CREATE TABLE t(x)"}, HazardHotJournal},
		{"wal header", []string{"PRAGMA journal_mode=WAL", "CREATE TABLE t(x)"}, HazardHotJournalWAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t, tc.sql...)
			writeFile(t, db+"-journal", journal)
			r := inspect(t, db)
			wantHazards(t, r, tc.want) // the WAL case reports only the more severe hazard
			if r.Journal.Hot != HotYes || r.Journal.Size != int64(len(journal)) {
				t.Fatalf("journal %+v", r.Journal)
			}
		})
	}
}

// TestInspectZeroedJournal: PERSIST mode ends a transaction by zeroing
// the header; such a journal is not hot.
func TestInspectZeroedJournal(t *testing.T) {
	db := newDB(t, "PRAGMA journal_mode=PERSIST", "CREATE TABLE t(x)", "INSERT INTO t VALUES(1)")
	r := inspect(t, db)
	wantHazards(t, r)
	if !r.Journal.Exists || !r.Journal.HeaderZeroed || r.Journal.Hot != HotNo {
		t.Fatalf("persisted journal: %+v", r.Journal)
	}
}

// TestInspectWalguardLocks: the sidecar's locks are named by role.
func TestInspectSidecarLockNames(t *testing.T) {
	db := newDB(t, "PRAGMA journal_mode=WAL", "CREATE TABLE t(x)")
	host := inspect(t, db).Host
	joinSidecar(t, db, sidecar.Slot{PID: uint32(os.Getpid()), Protocol: policy.ProtocolOFD, Family: policy.FamilyWAL, Host: host})
	inspectUntil(t, db, func(r *Report) string {
		for _, rng := range []string{"slot 0", "protocol:ofd", "family:wal"} {
			if l, ok := findLock(r, RoleSidecar, KindOFD, rng); !ok || l.PID != os.Getpid() {
				return fmt.Sprintf("no sidecar lock %q by this process: %+v", rng, r.Locks)
			}
		}
		return ""
	})
}
