package bench

import (
	"testing"

	"github.com/ncruces/go-sqlite3"
)

// BenchmarkOpenClose opens a connection, runs its first read (which opens
// the WAL and its index, or takes the rollback journal's locks) and closes
// it. Another connection stays open throughout, as in an application, so
// that closing is not also the last close that checkpoints and removes
// the WAL. It reports the process's CPU time per open (cpu-ns/op) too,
// which other jobs on a shared machine disturb less than wall time.
func BenchmarkOpenClose(b *testing.B) {
	for _, j := range readJournals() {
		b.Run("mode="+j.name, func(b *testing.B) {
			forEachVFS(b, func(b *testing.B, vfsName string) {
				path, _ := newDB(b, vfsName, j, 10)
				uri := dsn(path, vfsName)
				cpu0 := cpuTime()
				for b.Loop() {
					c, err := sqlite3.Open(uri)
					if err != nil {
						b.Fatal(err)
					}
					if err := c.Exec("SELECT n FROM t WHERE id = 1"); err != nil {
						c.Close()
						b.Fatal(err)
					}
					if err := c.Close(); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpuTime()-cpu0)
			})
		})
	}
}
