package bench

import (
	"testing"
	"time"

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
					openReadClose(b, uri)
				}
				reportCPU(b, cpuTime()-cpu0)
			})
		})
	}
}

// BenchmarkOpenClosePaired is OpenClose with the two VFSes interleaved
// op by op in one loop: each iteration opens, reads and closes a
// connection through os and one through walguard (in alternating order),
// each timed on its own. The machine's drift, which moves whole
// sub-benchmarks by ±5–10% on a shared virtual machine, lands on both
// sides within microseconds, so the ratio it reports (walguard/os, the
// total times' quotient) is far steadier than OpenClose's: os-ns/op and
// walguard-ns/op are the two sides.
func BenchmarkOpenClosePaired(b *testing.B) {
	for _, j := range readJournals() {
		b.Run("mode="+j.name, func(b *testing.B) {
			var uris [2]string
			for _, s := range sideOrder() {
				path, _ := newDB(b, pairedSides[s], j, 10)
				uris[s] = dsn(path, pairedSides[s])
			}
			var spent [2]time.Duration
			timed := func(i int) {
				t0 := time.Now()
				openReadClose(b, uris[i])
				spent[i] += time.Since(t0)
			}
			n, firstSide := 0, sideOrder()[0]
			for b.Loop() {
				first := (n + firstSide) % 2
				timed(first)
				timed(1 - first)
				n++
			}
			for s := range spent {
				b.ReportMetric(float64(spent[s].Nanoseconds())/float64(n), sideLabel(s)+"-ns/op")
			}
			b.ReportMetric(float64(spent[1])/float64(spent[0]), "walguard/os")
		})
	}
}

// openReadClose opens a connection to uri, runs its first read (a point
// read, which opens the WAL and its index or takes the rollback journal's
// locks) and closes it.
func openReadClose(b *testing.B, uri string) {
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
