package bench

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/testproc"
)

// Paired benchmarks of many workers. Every worker (a goroutine, or a
// child process) holds one connection through os and one through
// walguard, to two databases built alike. The work runs in short phases
// (a few milliseconds) that alternate between the two sides, os first in
// one round and walguard first in the next; in a phase every worker does
// the same number of operations on the same side, all at once, so each
// side's phases have exactly the concurrency and contention of the
// unpaired benchmark (ReadConns, Procs). Whatever the machine does over
// seconds (other jobs, CPU frequency, the page cache) lands on both sides
// within milliseconds, where separate sub-benchmarks run seconds apart
// and move by ±5–10% on a shared virtual machine (docs/performance.md,
// "Run to run"). Interleaving single operations instead would measure
// the scheduler: with more workers than cores, a timed operation often
// includes another worker's turn on the CPU.
//
// A phase lasts from the first worker's first operation to the last
// worker's last one (the monotonic clock in one process, the wall clock
// across processes), so handing out the phases is not timed. One untimed
// round on each side comes first. Each side's throughput is its
// operations over its phases' total time. Each benchmark reports, for
// walguard against os:
//   - reads/s-ratio or txn/s-ratio: walguard's throughput over os's (the
//     targets: >= 0.99);
//   - p50-ratio: the median latency of a walguard operation over that of
//     an os one (<= 1.01);
//   - each side's throughput and median latency, so the ratios can be
//     checked.

// pairedSides are the two VFSes of a paired benchmark, in the order of
// the per-side arrays.
// With WALGUARD_BENCH_PAIRED_AA=1 both sides are os: what the paired
// benchmarks then report is their own bias and noise on the machine
// (docs/performance.md, "Paired benchmarks").
var pairedSides = func() [2]string {
	if os.Getenv(envPairedAA) == "1" {
		return [2]string{"os", "os"}
	}
	return [2]string{"os", "walguard"}
}()

// sideOrder is the order in which a paired benchmark sets its two sides
// up: reversed on every other run of run.sh, as vfsNames is.
func sideOrder() [2]int {
	if os.Getenv(envReverse) == "1" {
		return [2]int{1, 0}
	}
	return [2]int{0, 1}
}

// phaseOps is about how many operations a phase of a paired benchmark
// runs in all, over every worker: 5–50 ms of work. Longer phases make
// what a phase's span holds besides the work (starting its workers,
// handing the phase to child processes one by one) a smaller part of it,
// shorter ones give a run more rounds to average: at 4,000, os against
// os gave intervals twice as wide as at 1,000.
const phaseOps = 2000

// sideLabel names side s in metric units: the VFS, or, where both sides
// are the same VFS (WALGUARD_BENCH_PAIRED_AA), the VFS and the side.
func sideLabel(s int) string {
	if pairedSides[0] == pairedSides[1] {
		return fmt.Sprintf("%s%d", pairedSides[s], s+1)
	}
	return pairedSides[s]
}

// pairedTally adds up one side's phases.
type pairedTally struct {
	elapsed time.Duration
	ops     int
	lat     []time.Duration
}

// add counts a phase of ops operations that lasted span, from its
// earliest start to its latest end.
func (t *pairedTally) add(span time.Duration, ops int) {
	t.elapsed += span
	t.ops += ops
}

// reportPaired reports the paired metrics; unit names the throughput
// ("reads/s", "txn/s").
func reportPaired(b *testing.B, unit string, sides *[2]pairedTally) {
	b.Helper()
	var rate [2]float64
	var p50 [2]time.Duration
	for s, t := range sides {
		if t.ops == 0 || t.elapsed <= 0 {
			b.Fatalf("no %s operations timed", pairedSides[s])
		}
		rate[s] = float64(t.ops) / t.elapsed.Seconds()
		p50[s] = percentile(t.lat, 0.50)
		b.ReportMetric(rate[s], sideLabel(s)+"-"+unit)
		b.ReportMetric(float64(p50[s].Nanoseconds()), sideLabel(s)+"-p50-ns")
	}
	b.ReportMetric(rate[1]/rate[0], unit+"-ratio")
	if p50[0] > 0 {
		b.ReportMetric(float64(p50[1])/float64(p50[0]), "p50-ratio")
	}
}

// phases runs a paired benchmark's phases: first one untimed round on
// each side (warm-up: connections and caches cold from setup), then
// rounds of one phase per side, in alternating order, until each side has
// had total operations over workers workers, in an even number of rounds.
// run(side, perWorker, timed) runs one phase. The first round starts with
// the side set up first (sideOrder), which run.sh alternates, so neither
// side always has the first phase after the warm-up.
func phases(total, workers int, run func(side, perWorker int, timed bool)) {
	per := max(1, phaseOps/workers)
	first := sideOrder()[0]
	for turn := range 2 {
		run((first+turn)%2, per, false)
	}
	n := per
	for round, done := 0, 0; done < total || round%2 == 1; round++ {
		if done < total {
			n = min(per, (total-done+workers-1)/workers)
		} // else: the round that evens the count repeats the last one's n
		for turn := range 2 {
			run((first+round+turn)%2, n, true)
		}
		done += n * workers
	}
}

// pairedConns are the connection counts of BenchmarkReadConnsPaired.
var pairedConns = []int{8, 100}

// BenchmarkReadConnsPaired is ReadConns paired: n goroutines of one
// process, each with a warm connection through os and one through
// walguard (n live connections per database), do point reads in phases
// that alternate between the two; about b.N reads per side.
func BenchmarkReadConnsPaired(b *testing.B) {
	for _, n := range pairedConns {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			// Built and opened side by side, in the order run.sh
			// alternates, so that neither side's connections are
			// always the older ones in memory.
			var paths [2]string
			var sels [2][]*sqlite3.Stmt
			order := sideOrder()
			for _, s := range order {
				paths[s], _ = newDB(b, pairedSides[s], walNormal, readRows)
			}
			for range n {
				for _, s := range order {
					sels[s] = append(sels[s], warmConn(b, paths[s], pairedSides[s]))
				}
			}
			var sides [2]pairedTally
			// Each worker's span and latencies in the current phase
			// (monotonic clock: one process).
			first, last := make([]time.Time, n), make([]time.Time, n)
			lat := make([][]time.Duration, n)
			var next int64 // spreads the reads over the table
			errs := make(chan error, n)

			b.ResetTimer()
			phases(b.N, n, func(s, per int, timed bool) {
				var wg sync.WaitGroup
				for i := range n {
					base := next + int64(i*per)
					wg.Go(func() {
						lat[i] = lat[i][:0]
						t0 := time.Now()
						first[i] = t0
						for k := range int64(per) {
							if err := pointRead(sels[s][i], nextID(base+k)); err != nil {
								errs <- fmt.Errorf("%s: %w", pairedSides[s], err)
								return
							}
							t1 := time.Now()
							lat[i] = append(lat[i], t1.Sub(t0))
							t0 = t1
						}
						last[i] = t0
					})
				}
				wg.Wait()
				select {
				case err := <-errs:
					b.Fatal(err)
				default:
				}
				next += int64(n * per)
				if !timed {
					return
				}
				for i := range n {
					sides[s].lat = append(sides[s].lat, lat[i]...)
				}
				end, start := slices.MaxFunc(last, time.Time.Compare), slices.MinFunc(first, time.Time.Compare)
				sides[s].add(end.Sub(start), n*per)
			})
			b.StopTimer()
			reportPaired(b, "reads/s", &sides)
		})
	}
}

// pairedProcs are the process counts of BenchmarkProcsPaired.
var pairedProcs = []int{8}

// Environment of a paired worker child: its two databases and where it
// writes a phase's latencies.
const (
	envPairDB  = "WALGUARD_BENCH_PAIR_DB_" // + the side's index in pairedSides
	envPairLat = "WALGUARD_BENCH_PAIR_LATENCIES"
)

// BenchmarkProcsPaired is Procs paired: p processes (this test binary run
// again as children), each with one connection through os and one
// through walguard, to two WAL databases built alike, work in phases that
// alternate between the two: op=insert commits single-row INSERT
// transactions with synchronous=NORMAL (the processes contend for the
// side's write lock; busy waits are in the latencies), op=read does point
// reads from a warm page cache; about b.N operations per side. Starting
// the children and opening their connections is not timed.
func BenchmarkProcsPaired(b *testing.B) {
	for _, op := range procOps {
		for _, p := range pairedProcs {
			b.Run(fmt.Sprintf("op=%s/procs=%d", op.name, p), func(b *testing.B) {
				benchProcsPaired(b, op.name, op.unit, p)
			})
		}
	}
}

func benchProcsPaired(b *testing.B, op, unit string, procs int) {
	var env []string
	var dir string
	for _, s := range sideOrder() {
		vfsName := pairedSides[s]
		path, c := newDB(b, vfsName, walNormal, readRows)
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
		env = append(env, envPairDB+strconv.Itoa(s)+"="+path)
		dir = filepath.Dir(path)
	}
	latFile := func(i int) string { return filepath.Join(dir, fmt.Sprintf("latencies-%d", i)) }
	children := make([]*testproc.Child, procs)
	for i := range children {
		children[i] = testproc.Start(b, os.Args[0], "pairworker", append(slices.Clip(env), envPairLat+"="+latFile(i))...)
	}
	for _, child := range children {
		child.Expect("ready")
	}

	var sides [2]pairedTally
	first, last := make([]int64, procs), make([]int64, procs)
	var next int64
	b.ResetTimer()
	phases(b.N, procs, func(s, per int, timed bool) {
		for i, child := range children {
			child.Send(fmt.Sprintf("%s %d %d %d", op, s, per, next+int64(i*per)))
		}
		for i, child := range children {
			line := child.Expect("done")
			if _, err := fmt.Sscanf(line, "done %d %d", &first[i], &last[i]); err != nil {
				b.Fatalf("worker %d: %q: %v", i, line, err)
			}
		}
		next += int64(procs * per)
		if !timed {
			return
		}
		b.StopTimer()
		for i := range children {
			sides[s].lat = append(sides[s].lat, readLatencies(b, latFile(i))...)
		}
		b.StartTimer()
		sides[s].add(time.Duration(slices.Max(last)-slices.Min(first)), procs*per)
	})
	b.StopTimer()
	for i, child := range children {
		if _, err := child.Wait(); err != nil {
			b.Fatalf("worker %d: %v", i, err)
		}
	}
	reportPaired(b, unit, &sides)
}

// childPairWorker is childWorker with a connection to each of the two
// databases named by the environment. For every line "OP S N FROM" on its
// standard input (OP insert or read, S the side's index in pairedSides)
// it runs N operations on side S (reads from row FROM on), writes their
// latencies to its latency file and prints "done FIRST LAST": when the
// first operation started and the last one ended, in Unix nanoseconds.
func childPairWorker() {
	if err := runPairWorker(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func runPairWorker() error {
	var ws [2]*workerConn
	for _, s := range sideOrder() {
		vfsName := pairedSides[s]
		w, err := openWorkerConn(os.Getenv(envPairDB+strconv.Itoa(s)), vfsName)
		if err != nil {
			return err
		}
		defer w.close()
		ws[s] = w
	}
	fmt.Println("ready")
	var raw []byte
	for {
		line := testproc.ReadLine()
		if line == "" {
			return nil
		}
		op, args, err := parseWorkerCommand(line, 3)
		if err != nil || args[0] > 1 {
			return fmt.Errorf("bad command %q", line)
		}
		s, n, from := args[0], args[1], args[2]
		raw = raw[:0]
		start := time.Now()
		firstNS := start.UnixNano()
		for i := range n {
			if err := ws[s].do(op, from+i, from+i); err != nil {
				return fmt.Errorf("%s %s %d: %w", pairedSides[s], op, i, err)
			}
			end := time.Now()
			raw = binary.LittleEndian.AppendUint64(raw, uint64(end.Sub(start)))
			start = end
		}
		lastNS := time.Now().UnixNano()
		if err := os.WriteFile(os.Getenv(envPairLat), raw, 0o644); err != nil {
			return err
		}
		fmt.Println("done", firstNS, lastNS)
	}
}
