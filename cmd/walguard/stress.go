package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ncruces/go-sqlite3"
)

func init() {
	register(command{name: "stress", summary: "multi-process torture run: kills, faults, mixed journal modes; proves nothing acknowledged is lost", run: runStress})
}

const stressUsage = `usage: walguard stress [flags]

Stress runs a multi-process torture test on a fresh database on this
machine's filesystem (or the one given by -dir) and proves that nothing
acknowledged is lost. Worker processes (this program, run again) insert
rows through walguard over a fault-injecting VFS and report every row
whose COMMIT returned nil; most set journal_mode=WAL, some run the naive
"on any error from PRAGMA journal_mode=WAL fall back to DELETE" routine,
all try journal_mode=DELETE outright now and then. Transient EIO is
injected on opens of -wal and -journal and on reads of the database; the
parent SIGKILLs a random worker now and then and starts another.

At the end the workers are stopped and the database is opened with the
plain os VFS: integrity_check must say ok, every acknowledged row must be
there, and no two live workers may have written in different journal
families at the same time. With -guard=off the same run goes through the
os VFS, to show what walguard prevents.

Flags:
  -duration D        how long to run (default 20s)
  -workers N         worker processes alive at once (default 4)
  -seed N            seed of faults, kills and choices; 0 picks one (printed)
  -dir DIR           create the database in a temporary directory under DIR
                     (another filesystem, e.g. an NFS mount); default the
                     system temporary directory
  -guard on|off      open through walguard (on) or the plain os VFS (off)
  -fault-rate P      probability of each injected EIO (default 0.02)
  -fallback-rate P   share of workers running the naive fallback (default 0.25)
  -delete-rate P     probability per operation that a worker tries
                     journal_mode=DELETE outright (default 0.01); through
                     walguard, refused, it then tries the deliberate way
                     (SetJournalMode), counted apart
  -reconnect-rate P  share of workers that close and reopen their
                     connection (journal_mode pragma and all) after every
                     transaction (default 0.25)
  -shm-fault-workers N  of the workers, N run under strace, which fails
                     every fifth lseek or fallocate on the -shm with EIO:
                     shared-memory faults no VFS can intercept (Linux;
                     needs strace)
  -flock-workers N   of the workers, N run a -tags sqlite3_flock build of
                     this walguard (mixed locking protocols), built from the
                     source it was compiled from, or by version for a
                     released one; needs the go tool
  -python-workers N  of the workers, N are Debian's python3 with libwalguard
                     (ext/, built from this walguard's source with a C
                     compiler), -wal opens failing at -fault-rate; with
                     -guard=off they open through the plain VFS
  -kill-interval D   mean time between SIGKILLs of a random worker
                     (default 3s; 0 disables)
  -keep              keep the database directory (kept anyway when unsafe)
  -json              print the report as JSON

An interrupt (Ctrl-C) or SIGTERM stops the workers early; the report of
the run so far is printed, with its verdict, and the directory is removed
as after a full run.

Exit codes:
  0  integrity ok and every acknowledged write present (and, with the
     guard on, no family overlap and no downgrade)
  1  corruption, a lost acknowledged write, or (guard on) a family overlap
     or a fallback's downgrade of the database out of WAL
  2  a usage error, or the run could not be set up (nothing is left behind)
  3  interrupted, and nothing unsafe found so far
`

// stressOptions are the parsed flags of "walguard stress".
type stressOptions struct {
	duration     time.Duration
	workers      int
	seed         int64
	dir          string
	guard        bool
	faultRate    float64
	fallbackRate float64
	deleteRate   float64
	reconnect    float64
	shmWorkers   int
	flockWorkers int
	pyWorkers    int
	killInterval time.Duration
	keep         bool
	json         bool
}

// stressWorkerCommand returns the program and arguments that run a worker
// (with stressWorkerEnv set). Tests replace it with the test binary.
var stressWorkerCommand = func() (string, []string, error) {
	exe, err := os.Executable()
	return exe, []string{"stress"}, err
}

// runStress is "walguard stress"; it is also the worker when
// stressWorkerEnv is set.
func runStress(args []string, stdout, stderr io.Writer) int {
	if cfg := os.Getenv(stressWorkerEnv); cfg != "" {
		return stressWorkerMain(cfg, os.Stdin, stdout, stderr)
	}
	opts, code, ok := parseStress(args, stdout, stderr)
	if !ok {
		return code
	}
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupt)
	report, err := stress(opts, interrupt, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "walguard stress: %v\n", err)
		return exitUsage
	}
	if opts.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "walguard stress: write report: %v\n", err)
		return exitUsage
	}
	return report.exitCode()
}

func parseStress(args []string, stdout, stderr io.Writer) (stressOptions, int, bool) {
	var o stressOptions
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "")
	fs.IntVar(&o.workers, "workers", 4, "")
	fs.Int64Var(&o.seed, "seed", 0, "")
	fs.StringVar(&o.dir, "dir", "", "")
	guard := fs.String("guard", "on", "")
	fs.Float64Var(&o.faultRate, "fault-rate", 0.02, "")
	fs.Float64Var(&o.fallbackRate, "fallback-rate", 0.25, "")
	fs.Float64Var(&o.deleteRate, "delete-rate", 0.01, "")
	fs.IntVar(&o.flockWorkers, "flock-workers", 0, "")
	fs.IntVar(&o.pyWorkers, "python-workers", 0, "")
	fs.Float64Var(&o.reconnect, "reconnect-rate", 0.25, "")
	fs.IntVar(&o.shmWorkers, "shm-fault-workers", 0, "")
	fs.DurationVar(&o.killInterval, "kill-interval", 3*time.Second, "")
	fs.BoolVar(&o.keep, "keep", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, stressUsage)
			return o, exitOK, false
		}
		fmt.Fprintf(stderr, "\n%s", stressUsage)
		return o, exitUsage, false
	}
	bad := func(format string, args ...any) (stressOptions, int, bool) {
		fmt.Fprintf(stderr, "walguard stress: "+format+"\n\n%s", append(args, stressUsage)...)
		return o, exitUsage, false
	}
	switch *guard {
	case "on":
		o.guard = true
	case "off":
	default:
		return bad("-guard must be on or off, not %q", *guard)
	}
	switch {
	case fs.NArg() != 0:
		return bad("unexpected arguments %q", fs.Args())
	case o.duration <= 0:
		return bad("-duration must be positive")
	case o.workers < 1:
		return bad("-workers must be at least 1")
	case o.flockWorkers < 0 || o.flockWorkers > o.workers:
		return bad("-flock-workers must be between 0 and -workers (%d)", o.workers)
	case o.faultRate < 0 || o.faultRate >= 1:
		return bad("-fault-rate must be in [0, 1)")
	case o.fallbackRate < 0 || o.fallbackRate > 1:
		return bad("-fallback-rate must be in [0, 1]")
	case o.deleteRate < 0 || o.deleteRate > 1:
		return bad("-delete-rate must be in [0, 1]")
	case o.reconnect < 0 || o.reconnect > 1:
		return bad("-reconnect-rate must be in [0, 1]")
	case o.shmWorkers < 0 || o.flockWorkers+o.shmWorkers > o.workers:
		return bad("-shm-fault-workers must be between 0 and -workers minus -flock-workers (%d)", o.workers-o.flockWorkers)
	case o.pyWorkers < 0 || o.flockWorkers+o.shmWorkers+o.pyWorkers > o.workers:
		return bad("-python-workers must be between 0 and -workers minus -flock-workers and -shm-fault-workers (%d)", o.workers-o.flockWorkers-o.shmWorkers)
	case o.killInterval < 0:
		return bad("-kill-interval must not be negative")
	}
	if o.seed == 0 {
		o.seed = time.Now().UnixNano()%1_000_000 + 1
	}
	return o, exitOK, true
}

// stressRun is the parent's state during a run.
type stressRun struct {
	opts     stressOptions
	db       string
	exe      string
	args     []string
	flockBin string
	pyLib    string // libwalguard for -python-workers, without .so
	// pyCommits are the commits of Python workers by index, from their
	// stats lines. +checklocks:mu
	pyCommits map[int64]int64
	// pyIndex are the indexes of Python workers. +checklocks:mu
	pyIndex map[int64]bool
	strace  string // the strace binary, with -shm-fault-workers
	rng     *rand.Rand

	mu    sync.Mutex
	acked map[int64]struct{}    // +checklocks:mu
	stats map[int64]workerStats // latest stats line of each worker; +checklocks:mu
	runs  familyRuns            // +checklocks:mu
	// downgrades are the post-mortem's downgrades the workers reported,
	// and those of Python workers. +checklocks:mu
	downgrades, pyDowngrades int
	families                 map[string]int // +checklocks:mu
	errs                     []string       // +checklocks:mu
	next                     int64          // +checklocks:mu; the last worker index given out
	alive                    atomic.Int64   // workers started and not yet exited
}

// stressChild is one running worker process.
type stressChild struct {
	index int64
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when its stdout is drained and it has exited
}

// stress runs the torture test. A signal on interrupt stops it early: the
// workers are stopped and the report covers the run so far. The temporary
// directory is removed unless -keep, or the run was unsafe; a run that
// could not be set up leaves nothing.
func stress(o stressOptions, interrupt <-chan os.Signal, stdout, stderr io.Writer) (*stressReport, error) {
	made, err := os.MkdirTemp(o.dir, "walguard-stress-")
	if err != nil {
		return nil, fmt.Errorf("create the database directory: %w", err)
	}
	dir, err := filepath.EvalSymlinks(made)
	if err != nil {
		os.RemoveAll(made)
		return nil, fmt.Errorf("create the database directory: %w", err)
	}
	r := &stressRun{opts: o, db: filepath.Join(dir, "stress.db"),
		rng:   rand.New(rand.NewPCG(uint64(o.seed), 0x5eed)),
		acked: map[int64]struct{}{}, stats: map[int64]workerStats{}, families: map[string]int{}, pyCommits: map[int64]int64{}, pyIndex: map[int64]bool{}}
	report, err := r.run(interrupt, stdout, stderr)
	if err != nil && !o.keep {
		if rmErr := os.RemoveAll(made); rmErr != nil {
			return nil, fmt.Errorf("%w (and removing %s failed: %v)", err, made, rmErr)
		}
		return nil, err
	}
	if err != nil || !report.Safe || o.keep {
		if report != nil {
			report.Kept = true
		}
		return report, err
	}
	if err := os.RemoveAll(made); err != nil {
		return nil, fmt.Errorf("remove the database directory %s: %w", made, err)
	}
	return report, nil
}

func (r *stressRun) run(interrupt <-chan os.Signal, stdout, stderr io.Writer) (*stressReport, error) {
	var err error
	if r.exe, r.args, err = stressWorkerCommand(); err != nil {
		return nil, fmt.Errorf("find the worker executable: %w", err)
	}
	if r.opts.flockWorkers > 0 {
		if r.flockBin, err = buildFlock(filepath.Dir(r.db)); err != nil {
			return nil, err
		}
	}
	if r.opts.pyWorkers > 0 {
		if r.pyLib, err = buildLibwalguard(filepath.Dir(r.db)); err != nil {
			return nil, err
		}
	}
	if r.opts.shmWorkers > 0 {
		if r.strace, err = exec.LookPath("strace"); err != nil || runtime.GOOS != "linux" {
			return nil, fmt.Errorf("-shm-fault-workers needs strace on Linux to inject faults no VFS can reach: %v", err)
		}
	}
	if err := r.createDB(); err != nil {
		return nil, err
	}
	// Slots 0..flockWorkers-1 run the flock build; a replacement keeps its slot's build.
	children := make([]*stressChild, r.opts.workers)
	for slot := range children {
		if children[slot], err = r.start(slot); err != nil {
			r.stopAll(children)
			return nil, err
		}
	}
	fmt.Fprintf(stderr, "walguard stress: %d workers for %s on %s (interrupt to stop early and report)\n",
		r.opts.workers, r.opts.duration, r.db)
	kills := 0
	started := time.Now()
	deadline := started.Add(r.opts.duration)
	nextKill := r.nextKill(started)
	progress := newStressProgress(stdout, r.opts.json)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	interrupted := ""
loop:
	for {
		var now time.Time
		select {
		case sig := <-interrupt:
			interrupted = sig.String()
			break loop
		case now = <-tick.C:
		}
		if !now.Before(deadline) {
			break
		}
		if r.opts.killInterval > 0 && !now.Before(nextKill) {
			slot := r.rng.IntN(len(children))
			c := children[slot]
			_ = killWorker(c.cmd)
			<-c.done
			kills++
			if children[slot], err = r.start(slot); err != nil {
				r.stopAll(children)
				return nil, err
			}
			nextKill = r.nextKill(now)
		}
		progress.update(now.Sub(started), r.snapshot(kills))
	}
	elapsed := time.Since(started)
	progress.done()
	r.stopAll(children)
	rep := r.snapshot(kills)
	rep.ShmFaults = r.shmFaults()
	rep.Duration = r.opts.duration.String()
	if interrupted != "" {
		rep.Interrupted = interrupted
		rep.Duration = elapsed.Round(100 * time.Millisecond).String()
	}
	r.verify(rep)
	return rep, nil
}

// shmFaults counts the faults strace injected into the -shm calls of
// the -shm-fault-workers, from their trace files.
func (r *stressRun) shmFaults() int {
	traces, _ := filepath.Glob(r.db + "-strace-*")
	n := 0
	for _, t := range traces {
		if b, err := os.ReadFile(t); err == nil {
			n += strings.Count(string(b), "(INJECTED)")
		}
	}
	return n
}

func (r *stressRun) nextKill(now time.Time) time.Time {
	d := r.opts.killInterval
	return now.Add(d/2 + time.Duration(r.rng.Int64N(int64(d)+1)))
}

// createDB creates the database in WAL mode, with the table the workers fill.
func (r *stressRun) createDB() error {
	conn, err := sqlite3.Open("file:" + r.db + "?vfs=os")
	if err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	defer conn.Close()
	for _, sql := range []string{
		"PRAGMA journal_mode=WAL",
		"CREATE TABLE t(id INTEGER PRIMARY KEY, worker INTEGER NOT NULL, payload BLOB)",
	} {
		if err := conn.Exec(sql); err != nil {
			return fmt.Errorf("create database: %s: %w", sql, err)
		}
	}
	return conn.Close()
}

func (r *stressRun) start(slot int) (*stressChild, error) {
	r.mu.Lock()
	index := r.next + 1
	r.next++
	r.mu.Unlock()
	cfg := workerConfig{
		DB: r.db, Index: index, Seed: r.opts.seed + index, Guard: r.opts.guard,
		FaultRate: r.opts.faultRate, DeleteRate: r.opts.deleteRate,
		Fallback:  r.rng.Float64() < r.opts.fallbackRate,
		Reconnect: r.rng.Float64() < r.opts.reconnect,
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	exe, args := r.exe, r.args
	if slot < r.opts.flockWorkers {
		exe, args = r.flockBin, []string{"stress"}
	}
	cmd := exec.Command(exe, args...)
	if slot >= r.opts.flockWorkers && slot < r.opts.flockWorkers+r.opts.shmWorkers {
		cmd = shmFaultCommand(r.strace, fmt.Sprintf("%s-strace-%d", r.db, index), r.db+"-shm", exe, args)
	}
	if py := r.opts.flockWorkers + r.opts.shmWorkers; slot >= py && slot < py+r.opts.pyWorkers {
		cmd = exec.Command(stressPython, "-u", "-c", pythonWorker, r.pyLib)
		r.mu.Lock()
		r.pyIndex[index] = true
		r.mu.Unlock()
	}
	cmd.Env = append(os.Environ(), stressWorkerEnv+"="+string(b))
	var stderrBuf strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderrBuf, n: 4096}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", exe, err)
	}
	c := &stressChild{index: index, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	r.alive.Add(1)
	go func() {
		defer close(c.done)
		defer r.alive.Add(-1)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			r.line(index, sc.Text())
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == -1) { // -1: killed by us
			r.mu.Lock()
			r.errs = append(r.errs, fmt.Sprintf("worker %d: %v: %s", index, err, strings.TrimSpace(stderrBuf.String())))
			r.mu.Unlock()
		}
	}()
	return c, nil
}

// line records one protocol line of worker index.
func (r *stressRun) line(index int64, line string) {
	kind, rest, _ := strings.Cut(line, " ")
	r.mu.Lock()
	defer r.mu.Unlock()
	switch kind {
	case "ack":
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			r.acked[id] = struct{}{}
		}
	case "mode":
		f := strings.Fields(rest)
		if len(f) != 3 {
			return
		}
		start, err1 := strconv.ParseInt(f[1], 10, 64)
		end, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return
		}
		fam := familyOf(f[0])
		r.families[fam]++
		r.runs.commit(index, fam, start, end)
	case "downgrade":
		r.downgrades++
		if r.pyIndex[index] {
			r.pyDowngrades++
		}
	case "closed":
		// A run is one connection's: a worker that closed its connection
		// wrote nothing until its next one, whatever others did meanwhile.
		r.runs.close(index)
	case "stats":
		var st workerStats
		if err := json.Unmarshal([]byte(rest), &st); err == nil {
			r.stats[index] = st
			if st.Python {
				r.pyCommits[index] = st.Commits
			}
		}
	}
}

// stopAll closes every worker's stdin, waits for it to exit cleanly, and
// kills the ones that do not within ten seconds.
func (r *stressRun) stopAll(children []*stressChild) {
	for _, c := range children {
		if c != nil {
			c.stdin.Close()
		}
	}
	timeout := time.After(10 * time.Second)
	for _, c := range children {
		if c == nil {
			continue
		}
		select {
		case <-c.done:
		case <-timeout:
			_ = killWorker(c.cmd)
			<-c.done
		}
	}
}

// snapshot sums what the workers have reported so far.
func (r *stressRun) snapshot(kills int) *stressReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &stressReport{
		DB: r.db, Guard: r.opts.guard, Seed: r.opts.seed, Workers: r.opts.workers,
		FlockWorkers: r.opts.flockWorkers, PythonWorkers: r.opts.pyWorkers, ShmWorkers: r.opts.shmWorkers, WorkersStarted: int(r.next), WorkersAlive: int(r.alive.Load()), Kills: kills,
		Refusals: map[string]uint64{}, FamilyWrites: map[string]int{},
		Acked: len(r.acked), Overlaps: r.runs.overlaps(), WorkerErrors: slices.Clone(r.errs),
		Downgrades: r.downgrades, PythonDowngrades: r.pyDowngrades,
	}
	for f, n := range r.families {
		rep.FamilyWrites[f] = n
		rep.Commits += int64(n)
	}
	for _, n := range r.pyCommits {
		rep.PythonCommits += n
	}
	for _, st := range r.stats {
		rep.Operations += st.Ops
		rep.FailedTxns += st.FailedTxns
		rep.Fallbacks += st.Fallbacks
		rep.DeleteAttempts += st.DeleteAttempts
		rep.DeleteAccepted += st.DeleteOK
		rep.Deliberate += st.Deliberate
		rep.DeliberateRefused += st.DeliberateRefused
		rep.Reconnects += st.Reconnects
		rep.FaultsInjected += st.FaultsInjected
		if g := st.Walguard; g != nil {
			rep.ShimRetries += g.Retries
			rep.ShimRecovered += g.Recovered
			for reason, n := range g.Refusals {
				rep.Refusals[reason] += n
			}
		}
	}
	return rep
}

// verify opens the database with the os VFS and checks its integrity and
// that every acknowledged row is in it.
func (r *stressRun) verify(rep *stressReport) {
	defer func() { rep.Safe = rep.Integrity == "ok" && rep.Lost == 0 && rep.Overlaps == 0 && rep.Downgrades == 0 }()
	conn, err := sqlite3.Open("file:" + r.db + "?vfs=os")
	if err != nil {
		rep.Integrity = "cannot open: " + err.Error()
		rep.Lost = rep.Acked
		return
	}
	defer conn.Close()
	var msgs []string
	err = query(conn, "PRAGMA integrity_check", func(s *sqlite3.Stmt) { msgs = append(msgs, s.ColumnText(0)) })
	if err != nil {
		rep.Integrity = "integrity_check failed: " + err.Error()
	} else {
		rep.Integrity, rep.IntegrityProblems = summarizeIntegrity(msgs)
	}
	present := map[int64]struct{}{}
	err = query(conn, "SELECT id FROM t", func(s *sqlite3.Stmt) { present[s.ColumnInt64(0)] = struct{}{} })
	rep.Rows = len(present)
	if err != nil && rep.Integrity == "ok" {
		rep.Integrity = "reading rows failed: " + err.Error()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var lost []int64
	for id := range r.acked {
		if _, ok := present[id]; !ok {
			lost = append(lost, id)
		}
	}
	slices.Sort(lost)
	rep.Lost = len(lost)
	rep.LostSample = lost[:min(len(lost), 10)]
}

// summarizeIntegrity turns the rows of PRAGMA integrity_check into "ok",
// or a one-line summary (how many problems, and the first) and the count.
func summarizeIntegrity(rows []string) (string, int) {
	if len(rows) == 1 && rows[0] == "ok" {
		return "ok", 0
	}
	var problems []string
	for _, row := range rows {
		for line := range strings.Lines(row) {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "*** in database") {
				problems = append(problems, line)
			}
		}
	}
	if len(problems) == 0 {
		return "integrity_check returned no rows", 0
	}
	first := problems[0]
	if len(first) > 100 {
		first = first[:100] + "..."
	}
	if len(problems) == 1 {
		return first, 1
	}
	return fmt.Sprintf("%d problems, the first: %s", len(problems), first), len(problems)
}

func query(conn *sqlite3.Conn, sql string, row func(*sqlite3.Stmt)) error {
	stmt, _, err := conn.Prepare(sql)
	if err != nil {
		return err
	}
	for stmt.Step() {
		row(stmt)
	}
	if err := stmt.Err(); err != nil {
		stmt.Close()
		return err
	}
	return stmt.Close()
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
