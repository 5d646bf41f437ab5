package bench

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/testproc"
)

// childRoles are the roles a copy of this test binary runs as a child.
var childRoles = map[string]func(){
	"writer":     childWriter,
	"worker":     childWorker,
	"pairworker": childPairWorker,
}

// Environment of a writer child.
const (
	envChildDB  = "WALGUARD_BENCH_CHILD_DB"
	envChildVFS = "WALGUARD_BENCH_CHILD_VFS"
	envChildLat = "WALGUARD_BENCH_CHILD_LATENCIES"
)

// writerProcs is how many processes BenchmarkMultiProcess writes with.
const writerProcs = 3

// BenchmarkMultiProcess has writerProcs processes (this test binary run
// again as children) commit single-row INSERT transactions to one WAL
// database with synchronous=NORMAL, b.N transactions in all. Starting the
// children and opening their connections is not timed. It reports the
// throughput of all processes together (txn/s) and the 99th percentile
// of a transaction's latency, busy waits included (p99-ns).
func BenchmarkMultiProcess(b *testing.B) {
	forEachVFS(b, func(b *testing.B, vfsName string) {
		path, c := newDB(b, vfsName, walNormal, 0)
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
		dir := filepath.Dir(path)
		children := make([]*testproc.Child, writerProcs)
		for i := range children {
			children[i] = testproc.Start(b, os.Args[0], "writer",
				envChildDB+"="+path, envChildVFS+"="+vfsName,
				envChildLat+"="+filepath.Join(dir, fmt.Sprintf("latencies-%d", i)))
			children[i].Expect("ready")
		}

		b.ResetTimer()
		start := time.Now()
		for i, child := range children {
			child.Send(fmt.Sprintf("run %d", b.N/writerProcs+boolInt(i < b.N%writerProcs)))
		}
		for _, child := range children {
			child.Expect("done")
		}
		elapsed := time.Since(start)
		b.StopTimer()

		var latencies []time.Duration
		for i, child := range children {
			if _, err := child.Wait(); err != nil {
				b.Fatalf("writer %d: %v", i, err)
			}
			latencies = append(latencies, readLatencies(b, filepath.Join(dir, fmt.Sprintf("latencies-%d", i)))...)
		}
		if len(latencies) != b.N {
			b.Fatalf("%d latencies for %d transactions", len(latencies), b.N)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "txn/s")
		b.ReportMetric(float64(percentile(latencies, 0.99)), "p99-ns")
	})
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// percentile returns the q quantile of d (nearest rank); d is sorted.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	rank := int(q*float64(len(d))+0.999999) - 1
	return d[min(max(rank, 0), len(d)-1)]
}

func readLatencies(tb testing.TB, path string) []time.Duration {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(raw)%8 != 0 {
		tb.Fatalf("%s: %d bytes, not a list of latencies", path, len(raw))
	}
	d := make([]time.Duration, len(raw)/8)
	for i := range d {
		d[i] = time.Duration(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return d
}

// childWriter opens the database named by the environment, prints
// "ready", then for every line "run N" on its standard input commits N
// single-row transactions, writes their latencies to its latency file and
// prints "done". It exits at end of input, and with status 1 on any error.
func childWriter() {
	if err := runWriter(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func runWriter() error {
	c, err := open(os.Getenv(envChildDB), os.Getenv(envChildVFS), walNormal)
	if err != nil {
		return err
	}
	defer c.Close()
	// Opens the WAL and joins it: setup, not part of a transaction's cost.
	if mode, err := sqlrow.Text(c, "PRAGMA journal_mode"); err != nil || mode != walNormal.mode {
		return fmt.Errorf("journal_mode %q, %v; want %s", mode, err, walNormal.mode)
	}
	ins, _, err := c.Prepare(insertSQL)
	if err != nil {
		return err
	}
	defer ins.Close()
	fmt.Println("ready")
	for {
		line := testproc.ReadLine()
		if line == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimPrefix(line, "run "))
		if err != nil {
			return fmt.Errorf("bad command %q: %w", line, err)
		}
		raw := make([]byte, 0, 8*n)
		for i := range n {
			start := time.Now()
			if err := insertOne(ins, int64(i)); err != nil {
				return fmt.Errorf("insert %d: %w", i, err)
			}
			raw = binary.LittleEndian.AppendUint64(raw, uint64(time.Since(start)))
		}
		if err := os.WriteFile(os.Getenv(envChildLat), raw, 0o644); err != nil {
			return err
		}
		fmt.Println("done")
	}
}
