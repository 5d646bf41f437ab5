package lockcheck_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/lockcheck"
)

// Inspect a database the way "walguard check" does: read-only, without
// taking a lock.
func ExampleInspect() {
	dir, err := os.MkdirTemp("", "lockcheck-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.db")

	db, err := sqlite3.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x)"); err != nil {
		log.Fatal(err)
	}
	db.Close()

	report, err := lockcheck.Inspect(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("journal family:", report.Header.Family)
	fmt.Println("wal present:", report.WAL.Exists)
	fmt.Println("verdict:", report.Verdict)
	for _, h := range report.Hazards {
		fmt.Println(h.Code, h.Message, h.Advice)
	}
	// Output:
	// journal family: wal
	// wal present: false
	// verdict: consistent
}

// Name the lock bytes of a /proc/locks line as SQLite names them.
func ExampleParseProcLocks() {
	text := "1: OFDLCK ADVISORY  READ -1 fe:00:9977893 1073741826 1073742335\n" +
		"2: POSIX  ADVISORY  WRITE 2285 fe:00:9977894 120 120\n"
	locks := lockcheck.ParseProcLocks(text)
	fmt.Println(locks[0].Kind, locks[0].Access, lockcheck.RangeName(lockcheck.RoleDB, locks[0].Start, locks[0].End, false))
	fmt.Println(locks[1].Kind, locks[1].Access, lockcheck.RangeName(lockcheck.RoleSHM, locks[1].Start, locks[1].End, true))
	// Output:
	// ofd read SHARED
	// posix write WRITE
}
