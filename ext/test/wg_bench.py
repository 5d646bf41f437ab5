"""libwalguard against the plain VFS from Python, in one run (see wg_bench.c).

Usage: python3 wg_bench.py LIBWALGUARD DIR [ROUNDS]
"""
import sqlite3, statistics, sys, time

lib, d = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
loader = sqlite3.connect(":memory:")
loader.enable_load_extension(True)
loader.load_extension(lib)
loader.close()

def connect(vfs):
    return sqlite3.connect("file:%s/%s.db?vfs=%s" % (d, vfs, vfs), uri=True, timeout=5, isolation_level=None)

OPS = [("insert (txn)", 2000), ("point read", 20000), ("open+read+close", 300)]

def run(vfs, op, n):
    if op == "open+read+close":
        t0 = time.perf_counter_ns()
        for _ in range(n):
            c = connect(vfs)
            c.execute("SELECT count(*) FROM t WHERE id = 1").fetchone()
            c.close()
        return (time.perf_counter_ns() - t0) / n
    c = connect(vfs)
    c.execute("PRAGMA synchronous=NORMAL")
    t0 = time.perf_counter_ns()
    if op == "insert (txn)":
        for i in range(n):
            c.execute("INSERT INTO t(v) VALUES(?)", (i,))
    else:
        for i in range(n):
            c.execute("SELECT v FROM t WHERE id = ?", (1 + i % 1000,)).fetchone()
    ns = (time.perf_counter_ns() - t0) / n
    c.close()
    return ns

for vfs in ("unix", "walguard"):
    c = connect(vfs)
    c.execute("PRAGMA journal_mode=wal")
    c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
    c.execute("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<1000) INSERT INTO t(v) SELECT i FROM c")
    c.close()

res = {}
for r in range(rounds):
    for op, n in OPS:
        order = ("unix", "walguard") if r % 2 == 0 else ("walguard", "unix")
        for vfs in order:
            res.setdefault((vfs, op), []).append(run(vfs, op, n))

print("%-16s %12s %12s %8s" % ("Python", "plain ns/op", "walguard", "ratio"))
for op, _ in OPS:
    p, w = statistics.median(res[("unix", op)]), statistics.median(res[("walguard", op)])
    print("%-16s %12.0f %12.0f %8.3f" % (op, p, w, w / p))
