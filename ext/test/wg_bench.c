/*
** wg_bench.c: libwalguard against the plain VFS from C, in one run:
** one-row write transactions (WAL, synchronous=NORMAL), point reads, and
** open + first read + close. The two VFSes alternate round by round so
** that load drifts hit both; the median round of each is reported, with
** the ratio walguard/plain. bench/ext_bench.sh runs it.
** Usage: wg_bench LIBWALGUARD DIR [ROUNDS]
*/
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *dir;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static sqlite3 *open_db(const char *vfs) {
  char uri[4200];
  snprintf(uri, sizeof uri, "file:%s/%s.db?vfs=%s", dir, vfs, vfs);
  sqlite3 *db;
  if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
    fprintf(stderr, "open %s: %s\n", uri, sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static void exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", sql, err);
    exit(1);
  }
}

enum { OP_INSERT, OP_READ, OP_OPEN, NOPS };
static const char *op_names[NOPS] = {"insert (txn)", "point read", "open+read+close"};
static const int op_n[NOPS] = {2000, 20000, 300};

static double run(const char *vfs, int op) {
  int n = op_n[op];
  double t0;
  if (op == OP_OPEN) {
    t0 = now();
    for (int i = 0; i < n; i++) {
      sqlite3 *db = open_db(vfs);
      exec(db, "SELECT count(*) FROM t WHERE id = 1");
      sqlite3_close(db);
    }
    return (now() - t0) / n;
  }
  sqlite3 *db = open_db(vfs);
  exec(db, "PRAGMA synchronous=NORMAL");
  sqlite3_stmt *st;
  const char *sql = op == OP_INSERT ? "INSERT INTO t(v) VALUES(?)" : "SELECT v FROM t WHERE id = ?";
  sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  t0 = now();
  for (int i = 0; i < n; i++) {
    sqlite3_bind_int(st, 1, op == OP_INSERT ? i : 1 + i % 1000);
    if (sqlite3_step(st) == SQLITE_ERROR) {
      fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
      exit(1);
    }
    sqlite3_reset(st);
  }
  double ns = (now() - t0) / n;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return ns;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: wg_bench LIBWALGUARD DIR [ROUNDS]\n");
    return 2;
  }
  dir = argv[2];
  int rounds = argc > 3 ? atoi(argv[3]) : 7;
  sqlite3 *l;
  char *err = NULL;
  sqlite3_open(":memory:", &l);
  sqlite3_enable_load_extension(l, 1);
  if (sqlite3_load_extension(l, argv[1], NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "load: %s\n", err);
    return 1;
  }
  sqlite3_close(l);
  const char *vfs[2] = {"unix", "walguard"};
  for (int v = 0; v < 2; v++) {
    sqlite3 *db = open_db(vfs[v]);
    exec(db, "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v); "
             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<1000) INSERT INTO t(v) SELECT i FROM c;");
    sqlite3_close(db);
  }
  double *res = calloc((size_t)(2 * NOPS * rounds), sizeof *res);
  for (int r = 0; r < rounds; r++)
    for (int op = 0; op < NOPS; op++)
      for (int k = 0; k < 2; k++) {
        int v = (r + k) % 2; /* alternate which goes first */
        res[(v * NOPS + op) * rounds + r] = run(vfs[v], op);
      }
  printf("%-16s %12s %12s %8s\n", "C", "plain ns/op", "walguard", "ratio");
  for (int op = 0; op < NOPS; op++) {
    double med[2];
    for (int v = 0; v < 2; v++) {
      double *a = &res[(v * NOPS + op) * rounds];
      qsort(a, (size_t)rounds, sizeof *a, cmp);
      med[v] = a[rounds / 2];
    }
    printf("%-16s %12.0f %12.0f %8.3f\n", op_names[op], med[0], med[1], med[1] / med[0]);
  }
  free(res);
  return 0;
}
