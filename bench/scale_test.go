package bench

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
)

// Benchmarks of how walguard's cost scales with the number of live
// participants: connections in one process, and processes.

// liveConns are the connection counts of BenchmarkReadConns.
var liveConns = []int{1, 8, 32, 100}

// warmSQL reads every page of t into a connection's page cache in one
// scan, much faster than reading each row.
const warmSQL = "SELECT sum(n) FROM t"

// warmConn opens a connection to path, fills its page cache and returns
// a prepared point read on it; cleanup closes both.
func warmConn(tb testing.TB, path, vfsName string) *sqlite3.Stmt {
	tb.Helper()
	c := openConn(tb, path, vfsName, walNormal)
	if err := c.Exec(warmSQL); err != nil {
		tb.Fatal(err)
	}
	return prepare(tb, c, pointReadSQL)
}

// BenchmarkReadConns has n connections of one process read one WAL
// database at once, each from a goroutine of its own, for n = 1, 8, 32
// and 100; b.N point reads in all (each a whole read transaction, from a
// warm page cache). It reports the throughput of all connections together
// (reads/s), the median latency of one read (p50-ns) and the CPU time
// the process used per read (cpu-ns/op), which other jobs on a shared
// machine disturb much less than wall time.
func BenchmarkReadConns(b *testing.B) {
	for _, n := range liveConns {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			forEachVFS(b, func(b *testing.B, vfsName string) {
				path, _ := newDB(b, vfsName, walNormal, readRows)
				sels := make([]*sqlite3.Stmt, n)
				for i := range sels {
					sels[i] = warmConn(b, path, vfsName)
				}
				latencies := make([][]time.Duration, n)
				for i := range latencies {
					latencies[i] = make([]time.Duration, 0, share(b.N, n, i))
				}
				errs := make(chan error, n)

				b.ResetTimer()
				cpu0, start := cpuTime(), time.Now()
				var wg sync.WaitGroup
				for i, sel := range sels {
					wg.Go(func() {
						for k := range int64(share(b.N, n, i)) {
							t0 := time.Now()
							if err := pointRead(sel, nextID(k*int64(n)+int64(i))); err != nil {
								errs <- err
								return
							}
							latencies[i] = append(latencies[i], time.Since(t0))
						}
					})
				}
				wg.Wait()
				elapsed, cpu := time.Since(start), cpuTime()-cpu0
				b.StopTimer()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				var all []time.Duration
				for _, l := range latencies {
					all = append(all, l...)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
				b.ReportMetric(float64(percentile(all, 0.50)), "p50-ns")
				reportCPU(b, cpu)
			})
		})
	}
}

// share is worker i's part of total operations split over n workers.
func share(total, n, i int) int { return total/n + boolInt(i < total%n) }

// openLive are the live-connection counts of BenchmarkOpenLive.
var openLive = []int{0, 100}

// BenchmarkOpenLive opens a connection to a WAL database, runs its first
// read and closes it, while live other connections of the same process
// are open (each has read, so it has joined the WAL): 0 and 100. With
// none, every close is the last one, which checkpoints and removes the
// WAL; compare each count's walguard/os ratio, not the times.
func BenchmarkOpenLive(b *testing.B) {
	for _, live := range openLive {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			forEachVFS(b, func(b *testing.B, vfsName string) {
				path, c := newDB(b, vfsName, walNormal, 10)
				if live == 0 {
					if err := c.Close(); err != nil {
						b.Fatal(err)
					}
				}
				for i := 1; i < live; i++ {
					if err := openConn(b, path, vfsName, walNormal).Exec("SELECT n FROM t WHERE id = 1"); err != nil {
						b.Fatal(err)
					}
				}
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

// reportCPU reports cpu, the CPU time b.N operations used, as cpu-ns/op,
// where the platform measures it.
func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 && b.N > 0 {
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	}
}
