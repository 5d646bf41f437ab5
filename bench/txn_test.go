package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqltest"
)

// BenchmarkInsertTxn commits one single-row INSERT per operation: WAL with
// synchronous=NORMAL (no fsync per transaction: CPU-bound), and the
// rollback journal (DELETE, synchronous=FULL: fsync-bound).
func BenchmarkInsertTxn(b *testing.B) {
	for _, j := range []journal{walNormal, rollback} {
		b.Run("mode="+j.name, func(b *testing.B) {
			forEachVFS(b, func(b *testing.B, vfsName string) {
				_, c := newDB(b, vfsName, j, 0)
				ins := prepare(b, c, insertSQL)
				for i := int64(0); b.Loop(); i++ {
					if err := insertOne(ins, i); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkInsertTxnPaired is InsertTxn in WAL with the two VFSes
// interleaved transaction by transaction in one loop (as OpenClosePaired
// does opens): one connection through os and one through walguard, one
// single-row INSERT transaction on each per iteration, in alternating
// order, each timed on its own. One connection and no other goroutine, so
// nothing but the machine's drift, which lands on both sides, disturbs
// it: the finest measure of what walguard adds to a write transaction.
func BenchmarkInsertTxnPaired(b *testing.B) {
	var ins [2]*sqlite3.Stmt
	for _, s := range sideOrder() {
		_, c := newDB(b, pairedSides[s], walNormal, 0)
		ins[s] = prepare(b, c, insertSQL)
	}
	var lat [2][]time.Duration
	var i int64
	first := sideOrder()[0]
	for b.Loop() {
		for turn := range 2 {
			s := (int(i%2) + first + turn) % 2
			t0 := time.Now()
			if err := insertOne(ins[s], i); err != nil {
				b.Fatalf("%s: %v", pairedSides[s], err)
			}
			lat[s] = append(lat[s], time.Since(t0))
		}
		i++
	}
	var sides [2]pairedTally
	for s := range sides {
		sides[s].lat = lat[s]
		for _, d := range lat[s] {
			sides[s].elapsed += d
		}
		sides[s].ops = len(lat[s])
	}
	reportPaired(b, "txn/s", &sides)
}

// bulkRows is the size of BenchmarkBulkInsert's one transaction.
const bulkRows = 100_000

// BenchmarkBulkInsert inserts 100,000 rows in one transaction into a new
// database per operation; creating the database is not timed.
func BenchmarkBulkInsert(b *testing.B) {
	for _, j := range []journal{walNormal, rollback} {
		j.fsyncs = false // one commit: CPU-bound
		b.Run("mode="+j.name, func(b *testing.B) {
			forEachVFS(b, func(b *testing.B, vfsName string) {
				dir := benchDir(b, j.fsyncs)
				for i := range b.N {
					b.StopTimer()
					path := filepath.Join(dir, fmt.Sprintf("bulk%d.db", i))
					c := openConn(b, path, vfsName, j)
					if err := setJournal(c, j.mode); err != nil {
						b.Fatal(err)
					}
					sqltest.Exec(b, c, schema)
					b.StartTimer()

					if err := insertRows(c, bulkRows); err != nil {
						b.Fatal(err)
					}

					b.StopTimer()
					if err := c.Close(); err != nil {
						b.Fatal(err)
					}
					removeDB(b, path)
					b.StartTimer()
				}
			})
		})
	}
}

// removeDB removes a closed database and the files beside it.
func removeDB(tb testing.TB, path string) {
	tb.Helper()
	for _, suffix := range []string{"", "-wal", "-shm", "-journal", "-walguard"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			tb.Fatal(err)
		}
	}
}

// checkpointPages is wal_autocheckpoint for BenchmarkCheckpointHeavy: a
// checkpoint, with its fsyncs, every few transactions.
const checkpointPages = 8

// BenchmarkCheckpointHeavy commits single-row transactions in WAL mode with
// wal_autocheckpoint=8, so that the checkpoint path (xCheckpointStart,
// page-1 and database writes, fsync) runs every few operations.
func BenchmarkCheckpointHeavy(b *testing.B) {
	j := walNormal
	j.name = fmt.Sprintf("wal-autocheckpoint-%d", checkpointPages)
	j.fsyncs = true
	j.pragmas = []string{fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", checkpointPages)}
	b.Run("mode="+j.name, func(b *testing.B) {
		forEachVFS(b, func(b *testing.B, vfsName string) {
			_, c := newDB(b, vfsName, j, 1000)
			ins := prepare(b, c, insertSQL)
			var txns int64
			for ; b.Loop(); txns++ {
				if err := insertOne(ins, txns); err != nil {
					b.Fatal(err)
				}
			}
			// Each transaction appends a frame or two; without
			// autocheckpoints the WAL would hold them all.
			if frames := walFrames(b, c); txns >= 16*checkpointPages && frames > 8*checkpointPages {
				b.Fatalf("%d frames in the WAL after %d transactions: no autocheckpoint", frames, txns)
			}
		})
	})
}

// walFrames returns how many frames the WAL holds, as PRAGMA
// wal_checkpoint(PASSIVE) reports them.
func walFrames(tb testing.TB, c *sqlite3.Conn) int64 {
	tb.Helper()
	stmt := prepare(tb, c, "PRAGMA wal_checkpoint(PASSIVE)")
	if !stmt.Step() {
		tb.Fatalf("wal_checkpoint: %v", stmt.Err())
	}
	return stmt.ColumnInt64(1)
}
