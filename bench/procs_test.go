package bench

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/testproc"
)

// liveProcs are the process counts of BenchmarkProcs.
var liveProcs = []int{1, 2, 4, 8}

// procOps are the workloads of BenchmarkProcs: the command a worker child
// runs, and the unit of its throughput.
var procOps = []struct{ name, unit string }{
	{"insert", "txn/s"},
	{"read", "reads/s"},
}

// envChildProfile, if set, names a directory where every worker child
// writes a CPU profile of its work (worker-PID.pprof).
const envChildProfile = "WALGUARD_BENCH_CHILD_CPUPROFILE"

// BenchmarkProcs has p processes (this test binary run again as worker
// children, one connection each) work on one WAL database at once, for
// p = 1, 2, 4 and 8: op=insert commits single-row INSERT transactions
// with synchronous=NORMAL, op=read does point reads from a warm page
// cache; b.N operations in all. Starting the children and opening their
// connections is not timed. It reports the throughput of all processes
// together (txn/s or reads/s), the median latency of one operation, busy
// waits included (p50-ns), and the CPU time the workers used per
// operation (cpu-ns/op).
func BenchmarkProcs(b *testing.B) {
	for _, op := range procOps {
		for _, p := range liveProcs {
			b.Run(fmt.Sprintf("op=%s/procs=%d", op.name, p), func(b *testing.B) {
				forEachVFS(b, func(b *testing.B, vfsName string) {
					benchProcs(b, vfsName, op.name, op.unit, p)
				})
			})
		}
	}
}

func benchProcs(b *testing.B, vfsName, op, unit string, procs int) {
	path, c := newDB(b, vfsName, walNormal, readRows)
	if err := c.Close(); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Dir(path)
	latFile := func(i int) string { return filepath.Join(dir, fmt.Sprintf("latencies-%d", i)) }
	children := make([]*testproc.Child, procs)
	for i := range children {
		children[i] = testproc.Start(b, os.Args[0], "worker",
			envChildDB+"="+path, envChildVFS+"="+vfsName, envChildLat+"="+latFile(i))
	}
	for _, child := range children {
		child.Expect("ready")
	}

	b.ResetTimer()
	start := time.Now()
	for i, child := range children {
		child.Send(fmt.Sprintf("%s %d %d", op, share(b.N, procs, i), i))
	}
	var cpu time.Duration
	for i, child := range children {
		ns, err := strconv.ParseInt(strings.TrimPrefix(child.Expect("done"), "done "), 10, 64)
		if err != nil {
			b.Fatalf("worker %d: %v", i, err)
		}
		cpu += time.Duration(ns)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	var latencies []time.Duration
	for i, child := range children {
		if _, err := child.Wait(); err != nil {
			b.Fatalf("worker %d: %v", i, err)
		}
		latencies = append(latencies, readLatencies(b, latFile(i))...)
	}
	if len(latencies) != b.N {
		b.Fatalf("%d latencies for %d operations", len(latencies), b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	b.ReportMetric(float64(percentile(latencies, 0.50)), "p50-ns")
	reportCPU(b, cpu)
}

// childWorker opens the database named by the environment with a warm
// page cache, prints "ready", then for every line "insert N I" or
// "read N I" on its standard input (I: the worker's index, which spreads
// the reads of workers over the table) runs N single-row INSERT
// transactions or N point reads, writes their latencies to its latency
// file and prints "done" and the CPU time the process used for them, in
// nanoseconds. It exits at end of input, and with status 1 on
// any error.
func childWorker() {
	if err := runWorker(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func runWorker() error {
	w, err := openWorkerConn(os.Getenv(envChildDB), os.Getenv(envChildVFS))
	if err != nil {
		return err
	}
	defer w.close()
	if dir := os.Getenv(envChildProfile); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("worker-%d.pprof", os.Getpid())))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Println("ready")
	for {
		line := testproc.ReadLine()
		if line == "" {
			return nil
		}
		op, args, err := parseWorkerCommand(line, 2)
		if err != nil {
			return err
		}
		n, worker := args[0], args[1]
		raw := make([]byte, 0, 8*n)
		cpu0 := cpuTime()
		for i := range n {
			start := time.Now()
			if err := w.do(op, i, i*8+worker); err != nil {
				return fmt.Errorf("%s %d: %w", op, i, err)
			}
			raw = binary.LittleEndian.AppendUint64(raw, uint64(time.Since(start)))
		}
		cpu := cpuTime() - cpu0
		if err := os.WriteFile(os.Getenv(envChildLat), raw, 0o644); err != nil {
			return err
		}
		fmt.Println("done", int64(cpu))
	}
}

// workerConn is a worker child's connection, with its page cache warm and
// its two statements prepared.
type workerConn struct {
	c        *sqlite3.Conn
	ins, sel *sqlite3.Stmt
}

func openWorkerConn(path, vfsName string) (*workerConn, error) {
	c, err := open(path, vfsName, walNormal)
	if err != nil {
		return nil, err
	}
	w := &workerConn{c: c}
	// Joins the WAL and fills the page cache: setup, not measured.
	if err := c.Exec(warmSQL); err != nil {
		w.close()
		return nil, err
	}
	if w.ins, _, err = c.Prepare(insertSQL); err != nil {
		w.close()
		return nil, err
	}
	if w.sel, _, err = c.Prepare(pointReadSQL); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// do runs one op: "insert" inserts value, "read" reads the row nextID(key).
func (w *workerConn) do(op string, value, key int64) error {
	if op == "insert" {
		return insertOne(w.ins, value)
	}
	return pointRead(w.sel, nextID(key))
}

func (w *workerConn) close() {
	for _, st := range []*sqlite3.Stmt{w.ins, w.sel} {
		if st != nil {
			st.Close()
		}
	}
	w.c.Close()
}

// parseWorkerCommand parses a worker child's command: "insert" or "read"
// and nargs numbers, none negative.
func parseWorkerCommand(line string, nargs int) (op string, args []int64, err error) {
	f := strings.Fields(line)
	if len(f) != nargs+1 || (f[0] != "insert" && f[0] != "read") {
		return "", nil, fmt.Errorf("bad command %q", line)
	}
	for _, a := range f[1:] {
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil || v < 0 {
			return "", nil, fmt.Errorf("bad command %q", line)
		}
		args = append(args, v)
	}
	return f[0], args, nil
}
