package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/policy"
	wgvfs "github.com/walguard/walguard/vfs"
)

// stressWorkerEnv carries a worker's configuration (JSON) from the parent;
// a process started with it set runs as a worker instead of a command.
const stressWorkerEnv = "WALGUARD_STRESS_WORKER"

// stressVFSName is the VFS a worker registers and opens the database with.
const stressVFSName = "walguard-stress"

// workerConfig is what the parent tells one worker.
type workerConfig struct {
	DB         string  `json:"db"`
	Index      int64   `json:"index"`     // unique per worker, replacements included; prefixes row ids
	Seed       int64   `json:"seed"`      // seed of the worker's faults and choices
	Guard      bool    `json:"guard"`     // open through walguard
	FaultRate  float64 `json:"fault"`     // probability of an injected EIO per matching call
	Fallback   bool    `json:"fallback"`  // run the incident's naive WAL->DELETE fallback
	DeleteRate float64 `json:"delete"`    // probability per operation of trying journal_mode=DELETE outright
	Reconnect  bool    `json:"reconnect"` // close and reopen the connection after every transaction
}

// workerStats is the "stats" line a worker prints now and then and at exit.
type workerStats struct {
	Ops               int64        `json:"ops"`                // operations attempted (transactions, reads, mode switches)
	Commits           int64        `json:"commits"`            // transactions whose COMMIT returned nil
	Acked             int64        `json:"acked"`              // rows acknowledged
	FailedTxns        int64        `json:"failed_txns"`        // transactions that failed and were retried with new ids
	Reads             int64        `json:"reads"`              // read operations that succeeded
	Fallbacks         int64        `json:"fallbacks"`          // naive fallbacks to journal_mode=DELETE attempted
	Downgrades        int64        `json:"downgrades"`         // ... that took the database out of WAL (the "downgrade" lines)
	DeleteAttempts    int64        `json:"delete_attempts"`    // journal_mode=DELETE tried outright
	DeleteOK          int64        `json:"delete_ok"`          // ... and accepted
	Deliberate        int64        `json:"deliberate"`         // deliberate changes to DELETE (SetJournalMode) made
	DeliberateRefused int64        `json:"deliberate_refused"` // ... and refused (others live)
	Reconnects        int64        `json:"reconnects"`         // connections closed to reconnect (-reconnect-rate)
	FaultCalls        int64        `json:"fault_calls"`        // VFS calls faultvfs saw
	FaultsInjected    int64        `json:"faults_injected"`    // VFS calls faultvfs failed
	Walguard          *wgvfs.Stats `json:"walguard,omitempty"`
	LastError         string       `json:"last_error,omitempty"`
	Python            bool         `json:"python,omitempty"` // a Python worker with libwalguard (stress_python.go)
}

// workerLines writes a worker's protocol lines to the parent, one write each.
type workerLines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *workerLines) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// stressWorkerMain runs one worker: cfgJSON is its configuration, stdin
// closing tells it to stop, stdout carries its protocol lines:
//
//	ack ID                     row ID is committed (COMMIT returned nil)
//	mode wal|delete BEGIN END  the journal mode of the connection after a commit,
//	                           with the transaction's start and end (Unix ns)
//	closed                     it closed its connection
//	downgrade T                the post-mortem's downgrade (at Unix ns T): this
//	                           connection found the header in WAL, ran the naive
//	                           fallback, and the header now says rollback
//	stats JSON                 a workerStats, now and then and at exit
//
// It returns the process exit code.
func stressWorkerMain(cfgJSON string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cfg workerConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintf(stderr, "walguard stress worker: bad %s: %v\n", stressWorkerEnv, err)
		return exitUsage
	}
	// A terminal's interrupt reaches the whole process group; the parent
	// handles it and stops the workers by closing their stdin.
	signal.Ignore(os.Interrupt)
	var stop atomic.Bool
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		stop.Store(true)
	}()
	w := &stressWorker{cfg: cfg, out: &workerLines{w: stdout}, stop: &stop,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Index)))}
	w.register()
	w.run()
	w.reportStats()
	return exitOK
}

type stressWorker struct {
	cfg  workerConfig
	out  *workerLines
	stop *atomic.Bool
	rng  *rand.Rand
	fv   *faultvfs.VFS
	gv   *wgvfs.VFS // nil with the guard off
	seq  int64
	st   workerStats
	// conn is what the worker knows of its current connection.
	conn struct {
		wal      bool // the header said WAL when it opened (after the join, guarded)
		fellBack bool // it ran the naive fallback
		said     bool // it reported its downgrade
	}
	last time.Time // when stats were last printed
}

func (w *stressWorker) register() {
	w.fv = faultvfs.New(vfs.Find("os"), w.cfg.Seed)
	if w.cfg.FaultRate > 0 {
		w.fv.Add(faultvfs.Rule{Name: "eio-open-journal", Ops: faultvfs.OpOpen,
			Kinds: faultvfs.KindWAL | faultvfs.KindJournal, Probability: w.cfg.FaultRate})
		w.fv.Add(faultvfs.Rule{Name: "eio-read-db", Ops: faultvfs.OpRead,
			Kinds: faultvfs.KindMainDB, Probability: w.cfg.FaultRate})
	}
	if w.cfg.Guard {
		w.gv = wgvfs.Register(stressVFSName, wgvfs.Options{Base: w.fv, SidecarHook: w.fv.SidecarHook(), Program: "walguard-stress"})
	} else {
		vfs.Register(stressVFSName, w.fv)
	}
}

func (w *stressWorker) fail(err error) {
	w.st.LastError = err.Error()
}

// pause backs off a little after a failure, so a refused worker does not spin.
func (w *stressWorker) pause() {
	time.Sleep(time.Duration(1+w.rng.IntN(20)) * time.Millisecond)
}

func (w *stressWorker) run() {
	var conn *sqlite3.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for !w.stop.Load() {
		if conn == nil {
			c, err := w.open()
			if err != nil {
				w.fail(err)
				w.pause()
				continue
			}
			conn = c
		}
		if w.step(conn) {
			conn = nil // closed for a deliberate mode change
		} else if w.cfg.Reconnect {
			// A writer that connects for every transaction: nobody
			// holds its declarations between them.
			conn.Close()
			conn = nil
			w.st.Reconnects++
			w.out.printf("closed")
		}
		if time.Since(w.last) > 250*time.Millisecond {
			w.reportStats()
		}
	}
}

// open opens a connection and sets the journal mode the way this worker's
// kind of application does.
func (w *stressWorker) open() (*sqlite3.Conn, error) {
	conn, err := sqlite3.Open("file:" + w.cfg.DB + "?vfs=" + stressVFSName)
	if err != nil {
		return nil, err
	}
	if err := conn.BusyTimeout(2 * time.Second); err != nil {
		conn.Close()
		return nil, err
	}
	w.st.Ops++
	w.conn.wal, w.conn.fellBack, w.conn.said = headerFamily(w.cfg.DB) == 2, false, false
	if _, err := journalMode(conn, "wal"); err != nil {
		w.fail(err)
		if w.cfg.Fallback {
			// The incident's bug: any error from PRAGMA journal_mode=WAL is
			// taken for "this filesystem cannot do WAL".
			w.st.Fallbacks++
			w.conn.fellBack = true
			// The header right before the fallback: a downgrade is this
			// DELETE taking it out of WAL, not a deliberate change another
			// worker made meanwhile (which needs every participant closed,
			// and this connection may not have joined yet).
			w.conn.wal = headerFamily(w.cfg.DB) == 2
			if _, err := journalMode(conn, "delete"); err != nil {
				w.fail(err)
			}
			w.checkDowngrade()
		}
	}
	return conn, nil
}

// checkDowngrade reports the post-mortem's downgrade once per connection:
// the header said WAL right before the connection's naive fallback, and
// says rollback right after it.
func (w *stressWorker) checkDowngrade() {
	if w.conn.fellBack && w.conn.wal && !w.conn.said && headerFamily(w.cfg.DB) == 1 {
		w.conn.said = true
		w.st.Downgrades++
		w.out.printf("downgrade %d", time.Now().UnixNano())
	}
}

// headerFamily reads the journal family of db's header: 1 rollback, 2 WAL
// (bytes 18 and 19 agreeing), 0 otherwise or when it cannot be read.
func headerFamily(db string) byte {
	f, err := os.Open(db)
	if err != nil {
		return 0
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || h[18] != h[19] {
		return 0
	}
	return h[18]
}

// journalMode runs PRAGMA journal_mode (=mode unless mode is empty) and
// returns the answer.
func journalMode(conn *sqlite3.Conn, mode string) (string, error) {
	sql := "PRAGMA journal_mode"
	if mode != "" {
		sql += "=" + mode
	}
	got, err := sqlrow.Text(conn, sql)
	return strings.ToLower(got), err
}

// step runs one operation; it reports whether it closed conn.
func (w *stressWorker) step(conn *sqlite3.Conn) (closed bool) {
	w.st.Ops++
	switch r := w.rng.Float64(); {
	case r < w.cfg.DeleteRate:
		w.st.DeleteAttempts++
		w.conn.fellBack = false // what leaves WAL from here is this DELETE, not the fallback
		got, err := journalMode(conn, "delete")
		if err != nil {
			w.fail(err)
		}
		if got == "delete" {
			w.st.DeleteOK++
			// Write once in the rollback family, then go back to WAL.
			w.write(conn, 1)
			if _, err := journalMode(conn, "wal"); err != nil {
				w.fail(err)
			}
			return false
		}
		if w.gv != nil {
			// Through walguard a plain pragma does not leave WAL: do it
			// the deliberate way, which needs the database to itself.
			conn.Close()
			w.out.printf("closed")
			w.deliberateDelete()
			return true
		}
		return false
	case r < 0.2:
		stmt, _, err := conn.Prepare("SELECT count(*), max(id) FROM t")
		if err != nil {
			w.fail(err)
			return false
		}
		for stmt.Step() {
		}
		if err := stmt.Close(); err != nil {
			w.fail(err)
			return false
		}
		w.st.Reads++
	case r < 0.45:
		w.write(conn, 2+w.rng.IntN(4))
	default:
		w.write(conn, 1)
	}
	return false
}

// deliberateDelete leaves WAL the deliberate way (SetJournalMode), and on
// success writes once in the rollback family on a connection that asks
// for no mode; the next open goes back to WAL.
func (w *stressWorker) deliberateDelete() {
	w.conn.wal, w.conn.fellBack = false, false
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.gv.SetJournalMode(ctx, w.cfg.DB, policy.ModeDelete); err != nil {
		w.st.DeliberateRefused++
		w.fail(err)
		return
	}
	w.st.Deliberate++
	conn, err := sqlite3.Open("file:" + w.cfg.DB + "?vfs=" + stressVFSName)
	if err != nil {
		w.fail(err)
		return
	}
	defer func() {
		conn.Close()
		w.out.printf("closed")
	}()
	if err := conn.BusyTimeout(2 * time.Second); err != nil {
		w.fail(err)
		return
	}
	w.write(conn, 1)
}

// write inserts rows in one transaction and acknowledges them once COMMIT
// has returned nil. Ids are never reused, so a failed transaction whose
// rows were not acknowledged cannot collide with a later one.
func (w *stressWorker) write(conn *sqlite3.Conn, rows int) {
	ids := make([]int64, rows)
	for i := range ids {
		w.seq++
		ids[i] = w.cfg.Index*1_000_000_000 + w.seq
	}
	begin, err := w.insert(conn, ids)
	if err != nil {
		w.fail(err)
		w.st.FailedTxns++
		if !conn.GetAutocommit() {
			_ = conn.Exec("ROLLBACK")
		}
		w.pause()
		return
	}
	end := time.Now()
	w.st.Commits++
	for _, id := range ids {
		w.out.printf("ack %d", id)
		w.st.Acked++
	}
	if mode, err := journalMode(conn, ""); err == nil {
		w.out.printf("mode %s %d %d", mode, begin.UnixNano(), end.UnixNano())
	} else {
		w.fail(err)
	}
}

// insert writes ids in one transaction. It returns when the transaction
// began writing: the moment BEGIN IMMEDIATE returned holding the write lock
// (RESERVED, or WAL's write lock). Time spent waiting for that lock is not
// writing, so it must not count towards a family overlap.
func (w *stressWorker) insert(conn *sqlite3.Conn, ids []int64) (time.Time, error) {
	if err := conn.Exec("BEGIN IMMEDIATE"); err != nil {
		return time.Time{}, err
	}
	begin := time.Now()
	stmt, _, err := conn.Prepare("INSERT INTO t(id, worker, payload) VALUES(?, ?, randomblob(64))")
	if err != nil {
		return begin, err
	}
	defer stmt.Close()
	for _, id := range ids {
		if err := stmt.BindInt64(1, id); err != nil {
			return begin, err
		}
		if err := stmt.BindInt64(2, w.cfg.Index); err != nil {
			return begin, err
		}
		if err := stmt.Exec(); err != nil {
			return begin, err
		}
	}
	return begin, conn.Exec("COMMIT")
}

func (w *stressWorker) reportStats() {
	w.last = time.Now()
	fs := w.fv.Stats()
	w.st.FaultCalls, w.st.FaultsInjected = fs.Calls, fs.Injected
	if w.gv != nil {
		s := w.gv.Stats()
		w.st.Walguard = &s
	}
	b, err := json.Marshal(w.st)
	if err != nil {
		fmt.Fprintf(os.Stderr, "walguard stress worker: %v\n", err)
		return
	}
	w.out.printf("stats %s", b)
}
