package bench

import (
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqlrow"
)

// readRows is the size of the table point reads choose from: about 300
// pages, well inside the default page cache.
const readRows = 10_000

// nextID spreads successive reads over the table, deterministically.
func nextID(i int64) int64 { return (i*7919)%readRows + 1 }

const pointReadSQL = "SELECT n FROM t WHERE id = ?"

// pointRead reads row id's counter with the prepared pointReadSQL and
// ends the read transaction.
func pointRead(sel *sqlite3.Stmt, id int64) error {
	if err := sel.BindInt64(1, id); err != nil {
		return err
	}
	if !sel.Step() {
		if err := sel.Err(); err != nil {
			return err
		}
		return sqlrow.ErrNoRow
	}
	if sel.ColumnInt64(0) != id {
		return sqlrow.ErrNoRow
	}
	return sel.Reset()
}

// warmReader returns a prepared point read on a new database of readRows
// rows in journal j, with every row read once so the page cache is warm.
func warmReader(tb testing.TB, vfsName string, j journal) *sqlite3.Stmt {
	tb.Helper()
	_, c := newDB(tb, vfsName, j, readRows)
	sel := prepare(tb, c, pointReadSQL)
	for id := int64(1); id <= readRows; id++ {
		if err := pointRead(sel, id); err != nil {
			tb.Fatal(err)
		}
	}
	return sel
}

// readJournals are the modes point reads run in. A read never fsyncs, so
// both are CPU-bound.
func readJournals() []journal {
	r := rollback
	r.fsyncs = false
	return []journal{walNormal, r}
}

// BenchmarkPointRead reads one row by rowid per operation, from a warm
// page cache: each operation is a whole read transaction.
func BenchmarkPointRead(b *testing.B) {
	for _, j := range readJournals() {
		b.Run("mode="+j.name, func(b *testing.B) {
			forEachVFS(b, func(b *testing.B, vfsName string) {
				sel := warmReader(b, vfsName, j)
				for i := int64(0); b.Loop(); i++ {
					if err := pointRead(sel, nextID(i)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// TestPointReadAllocs checks that a cached point read through walguard
// allocates no more than the same read through the os VFS.
func TestPointReadAllocs(t *testing.T) {
	for _, j := range readJournals() {
		t.Run("mode="+j.name, func(t *testing.T) {
			allocs := map[string]float64{}
			for _, vfsName := range []string{"os", "walguard"} {
				sel := warmReader(t, vfsName, j)
				var i int64
				allocs[vfsName] = testing.AllocsPerRun(2000, func() {
					i++
					if err := pointRead(sel, nextID(i)); err != nil {
						t.Fatal(err)
					}
				})
			}
			t.Logf("allocations per read: os %v, walguard %v", allocs["os"], allocs["walguard"])
			if allocs["walguard"] > allocs["os"] {
				t.Errorf("a cached point read allocates %v times through walguard, %v through os",
					allocs["walguard"], allocs["os"])
			}
		})
	}
}

// mixReaders is how many reader connections BenchmarkReadMix runs beside
// its one writer.
const mixReaders = 3

// BenchmarkReadMix runs a read-heavy mix in WAL mode: mixReaders
// goroutines doing point reads and one goroutine doing single-row UPDATE
// transactions, each on a connection of its own. One operation in ten is
// a write; ns/op is the wall time of the whole mix divided by operations.
func BenchmarkReadMix(b *testing.B) {
	forEachVFS(b, func(b *testing.B, vfsName string) {
		path, c := newDB(b, vfsName, walNormal, readRows)
		upd := prepare(b, c, "UPDATE t SET n = n WHERE id = ?")
		sels := make([]*sqlite3.Stmt, mixReaders)
		for r := range sels {
			sels[r] = prepare(b, openConn(b, path, vfsName, walNormal), pointReadSQL)
			for id := int64(1); id <= readRows; id++ {
				if err := pointRead(sels[r], id); err != nil {
					b.Fatal(err)
				}
			}
		}
		writes := b.N / 10
		reads := b.N - writes

		b.ResetTimer()
		var wg sync.WaitGroup
		errs := make(chan error, mixReaders+1)
		for r, sel := range sels {
			share := reads / mixReaders
			if r < reads%mixReaders {
				share++
			}
			wg.Go(func() {
				for i := range int64(share) {
					if err := pointRead(sel, nextID(i*mixReaders+int64(r))); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Go(func() {
			for i := range int64(writes) {
				if err := upd.BindInt64(1, nextID(i)); err != nil {
					errs <- err
					return
				}
				if err := upd.Exec(); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Wait()
		b.StopTimer()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	})
}
