package walguard_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard"
)

// Open a database through walguard and read what it recorded.
func Example() {
	dir, _ := os.MkdirTemp("", "walguard-example")
	defer os.RemoveAll(dir)
	dir, _ = filepath.EvalSymlinks(dir)
	path := filepath.Join(dir, "app.db")

	db, err := sqlite3.Open("file:" + path + "?vfs=walguard")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec("PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)"); err != nil {
		log.Fatal(err)
	}

	st, err := walguard.Status(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("agreed:", st.Sidecar.Record.Family, st.Sidecar.Record.Mode, "because of the", st.Sidecar.Record.Reason)
	fmt.Println("live participants:", len(st.Sidecar.Participants), "using", st.Sidecar.Protocols, st.Sidecar.Families)
	// Output:
	// agreed: wal wal because of the journal_mode pragma
	// live participants: 1 using [ofd] [wal]
}
