package walguard_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/internal/testproc"
	wgvfs "github.com/walguard/walguard/vfs"
)

func init() {
	childRoles["fallback"] = childFallback
}

// childFallback is the routine from the post-mortem, ported: on any error
// from PRAGMA journal_mode=WAL, fall back to DELETE and carry on. It runs
// over a faultvfs injecting transient EIO on -wal opens, through walguard,
// and prints "ack N" per committed row and "mode M T" with the journal mode
// it committed under and the time.
func childFallback() {
	db, id := os.Getenv("WG_DB"), os.Getenv("WG_ID")
	seed, _ := strconv.ParseInt(os.Getenv("WG_SEED"), 10, 64)
	n, _ := strconv.Atoi(os.Getenv("WG_N"))
	fv := faultvfs.New(nil, seed)
	fv.Add(faultvfs.Rule{Name: "wal-eio", Ops: faultvfs.OpOpen | faultvfs.OpRead, Kinds: faultvfs.KindWAL, Probability: 0.3})
	wgvfs.Register("fallback", wgvfs.Options{Base: fv, SidecarHook: fv.SidecarHook()})
	c, err := sqlite3.Open("file:" + db + "?vfs=fallback")
	if err != nil {
		childFatal("open: %v", err)
	}
	defer c.Close()
	c.BusyTimeout(2 * time.Second)
	if err := c.Exec("PRAGMA journal_mode=wal"); err != nil {
		fmt.Println("fallback", err)
		c.Exec("PRAGMA journal_mode=delete") // the seed's bug: a transient error taken for a property
	}
	for i := 0; i < n; {
		err := c.Exec(fmt.Sprintf("INSERT INTO t VALUES('%s', %d)", id, i))
		if err != nil {
			if errclass.Classify(err).Retryable() {
				continue
			}
			childFatal("insert: %v", err)
		}
		mode, _ := sqlrow.Text(c, "PRAGMA journal_mode")
		fmt.Println("ack", i)
		fmt.Println("mode", mode, time.Now().UnixNano())
		i++
	}
	fmt.Println("injected", fv.Stats().Injected)
}

// The seed's fallback routine, in several processes at once with
// transient EIO injected: through walguard no process ever runs in DELETE
// while another runs in WAL, the file is sound, and every acknowledged
// write is present.
func TestSeedFallbackRoutineCannotMixFamilies(t *testing.T) {
	path := sqltest.TempDB(t)
	createTable(t, path, "wal")
	const procs, rows = 3, 60
	var children []*testproc.Child
	for i := range procs {
		children = append(children, testproc.Start(t, os.Args[0], "fallback", "WG_DB="+path,
			fmt.Sprint("WG_ID=p", i), fmt.Sprint("WG_SEED=", 100+i), fmt.Sprint("WG_N=", rows)))
	}
	type span struct{ first, last int64 }
	spans := map[string]map[string]*span{} // child -> mode -> times
	var injected int64
	for i, ch := range children {
		lines, err := ch.Wait()
		if err != nil {
			t.Fatalf("child %d: %v (%q)", i, err, lines)
		}
		acks := 0
		for _, l := range lines {
			var n int64
			if _, err := fmt.Sscanf(l, "injected %d", &n); err == nil {
				injected += n
			}
			var mode string
			var ts int64
			if strings.HasPrefix(l, "ack ") {
				acks++
			} else if _, err := fmt.Sscanf(l, "mode %s %d", &mode, &ts); err == nil {
				key := fmt.Sprint(i)
				if spans[key] == nil {
					spans[key] = map[string]*span{}
				}
				if s := spans[key][mode]; s == nil {
					spans[key][mode] = &span{ts, ts}
				} else {
					s.last = ts
				}
			}
		}
		if acks != rows {
			t.Fatalf("child %d acknowledged %d rows, want %d", i, acks, rows)
		}
	}
	if injected == 0 {
		t.Fatal("no fault was injected: the test proves nothing")
	}
	for a, am := range spans {
		for b, bm := range spans {
			if a == b {
				continue
			}
			if w, d := am["wal"], bm["delete"]; w != nil && d != nil && w.first <= d.last && d.first <= w.last {
				t.Fatalf("child %s wrote in WAL while child %s wrote in DELETE", a, b)
			}
		}
	}
	c := sqltest.OpenWaiting(t, sqltest.DSN(path, "os"))
	if got := sqltest.Query(t, c, "PRAGMA integrity_check"); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
	if got := sqltest.Query(t, c, "SELECT count(*) FROM t"); got != fmt.Sprint(procs*rows) {
		t.Fatalf("%s rows, want %d", got, procs*rows)
	}
}
