package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Python workers (-python-workers): Debian's python3 with libwalguard
// (ext/), built from the source this walguard was compiled from, with the
// extension's test faults (-DWG_TEST_FAULTS: -wal opens fail with EIO at
// -fault-rate). They speak the Go worker's line protocol ("ack ID", "mode
// M BEGIN END", "closed", "downgrade T"), run the same naive fallback when
// told to, and with -guard=off open through the faulty plain VFS instead.

// stressPython is the interpreter Python workers run under.
var stressPython = "/usr/bin/python3"

// buildLibwalguard builds the fault-injecting test build of libwalguard
// into dir and returns its path without the .so suffix, as load_extension
// takes it.
func buildLibwalguard(dir string) (string, error) {
	src := stressSourceDir()
	files, _ := filepath.Glob(filepath.Join(src, "ext", "src", "*.c"))
	if src == "" || len(files) == 0 {
		return "", fmt.Errorf("-python-workers builds libwalguard from this walguard's source (ext/src), which is not at %q", src)
	}
	if _, err := os.Stat(stressPython); err != nil {
		return "", fmt.Errorf("-python-workers needs %s (a python3 whose sqlite3 can load extensions): %v", stressPython, err)
	}
	out := filepath.Join(dir, "libwalguard.so") // the name gives the entry point
	args := append([]string{"-std=c11", "-O2", "-fPIC", "-shared", "-DWG_TEST_FAULTS", "-o", out,
		filepath.Join(src, "ext", "test", "wg_faults.c")}, files...)
	args = append(args, "-lpthread")
	if b, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("-python-workers: building libwalguard (a C compiler and libsqlite3-dev are needed): %v\n%s", err, b)
	}
	return strings.TrimSuffix(out, ".so"), nil
}

// pythonWorker is the Python worker: argument 1 is the extension, the
// configuration is the Go worker's (workerConfig, in stressWorkerEnv).
const pythonWorker = `
import json, os, random, sqlite3, sys, threading, time
cfg = json.loads(os.environ["WALGUARD_STRESS_WORKER"])
os.environ["WG_FAULT_WAL_P"] = str(int(cfg.get("fault", 0) * 100 + 0.5))
os.environ["WG_FAULT_SEED"] = str(cfg["seed"])
loader = sqlite3.connect(":memory:")
loader.enable_load_extension(True)
loader.load_extension(sys.argv[1])
loader.close()
vfs = "walguard" if cfg.get("guard") else "wgfault"
rng = random.Random(cfg["seed"])
stop = threading.Event()
def watch():
    sys.stdin.read()
    stop.set()
threading.Thread(target=watch, daemon=True).start()
seq = 0
def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
def header_family():
    try:
        with open(cfg["db"], "rb") as f:
            h = f.read(20)
    except OSError:
        return 0
    return h[18] if len(h) == 20 and h[18] == h[19] else 0
# conn: whether the header said WAL right before the connection's
# fallback, whether it ran the fallback, and whether it already said
# "downgrade".
conn = {}
def check_downgrade():
    # The post-mortem's downgrade: the header said WAL right before the
    # connection's fallback and says rollback right after it (not a
    # deliberate change another worker made meanwhile).
    if conn.get("fell_back") and conn.get("wal") and not conn.get("said") and header_family() == 1:
        conn["said"] = True
        st["downgrades"] += 1
        say("downgrade %d" % time.time_ns())
def connect():
    db = sqlite3.connect("file:%s?vfs=%s" % (cfg["db"], vfs), uri=True, timeout=2, isolation_level=None)
    conn.clear()
    try:
        db.execute("PRAGMA journal_mode=WAL").fetchall()
    except sqlite3.OperationalError:
        if cfg.get("fallback"):
            # The incident's routine: any error from journal_mode=WAL is
            # taken for "this filesystem cannot do WAL".
            st["fallbacks"] += 1
            conn["fell_back"] = True
            conn["wal"] = header_family() == 2
            # Like every statement of the application, the DELETE is
            # retried while SQLite answers "database is locked", for up
            # to the 2 s of its busy timeout (SQLite does not wait for
            # the exclusive lock that leaving WAL takes).
            until = time.monotonic() + 2
            while True:
                try:
                    db.execute("PRAGMA journal_mode=DELETE").fetchall()
                except sqlite3.OperationalError as e:
                    if str(e) == "database is locked" and time.monotonic() < until and not stop.is_set():
                        time.sleep(0.001)
                        continue
                break
            check_downgrade()
    return db
db = None
st = {"python": True, "ops": 0, "commits": 0, "acked": 0, "failed_txns": 0, "fallbacks": 0, "downgrades": 0}
last = time.monotonic()
while not stop.is_set():
    if time.monotonic() - last > 0.25:
        say("stats " + json.dumps(st))
        last = time.monotonic()
    st["ops"] += 1
    try:
        if db is None:
            db = connect()
        n = 1 if rng.random() < 0.6 else 2 + rng.randrange(4)
        ids = []
        for _ in range(n):
            seq += 1
            ids.append(cfg["index"] * 1000000000 + seq)
        db.execute("BEGIN IMMEDIATE")
        begin = time.time_ns()
        try:
            for i in ids:
                db.execute("INSERT INTO t(id, worker, payload) VALUES(?, ?, randomblob(64))", (i, cfg["index"]))
            db.execute("COMMIT")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        end = time.time_ns()
        st["commits"] += 1
        st["acked"] += len(ids)
        for i in ids:
            say("ack %d" % i)
        mode = db.execute("PRAGMA journal_mode").fetchone()[0].lower()
        say("mode %s %d %d" % (mode, begin, end))
        if cfg.get("reconnect"):
            db.close()
            db = None
            say("closed")
    except sqlite3.Error:
        st["failed_txns"] += 1
        time.sleep(0.005)
say("stats " + json.dumps(st))
if db is not None:
    db.close()
`
