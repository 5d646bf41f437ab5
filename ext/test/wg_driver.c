/*
** wg_driver.c: drives libwalguard through SQLite's C API, for the Go tests
** (ext/ext_test.go) to run plain and under AddressSanitizer, UBSan and
** LeakSanitizer. It checks, and exits non-zero on the first failure:
**   - open/insert/close loops in WAL and rollback leave no descriptor and
**     no memory behind;
**   - several threads, each with its own connection, write one database;
**   - journal_mode=delete is refused while the header says WAL, with a
**     message naming the database, the operation and the reason;
**   - PRAGMA walguard_status answers JSON;
**   - a switch intent left by a dead switcher is resolved at the first
**     header read under a lock;
**   - a process holding the database in WAL without walguard (a child on
**     SQLite's plain unix VFS) is listed in "without_walguard".
** Usage: wg_driver LIBWALGUARD DIR
**
** wg_driver LIBWALGUARD DIR settle, with a test build of the extension
** (-DWG_TEST_FAULTS) and WG_FAULT_LOCK_ENOLCK=-1, checks the settle rule
** instead: every SHARED lock through walguard fails with ENOLCK, so a read
** fails with the original error and the record settles rollback.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/wg.h"

static const char *g_lib, *g_dir;

#define CHECK(cond, ...)                          \
  do {                                            \
    if (!(cond)) {                                \
      fprintf(stderr, "wg_driver: " __VA_ARGS__); \
      fprintf(stderr, "\n");                      \
      exit(1);                                    \
    }                                             \
  } while (0)

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static sqlite3 *open_db(const char *name) {
  char uri[4200];
  snprintf(uri, sizeof uri, "file:%s/%s?vfs=walguard", g_dir, name);
  sqlite3 *db;
  int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
  CHECK(rc == SQLITE_OK, "open %s: %s", uri, sqlite3_errmsg(db));
  sqlite3_busy_timeout(db, 5000);
  /* Durability is not under test here; fsync would only make it slow. */
  sqlite3_exec(db, "PRAGMA synchronous=off", NULL, NULL, NULL);
  return db;
}

static void exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
  CHECK(rc == SQLITE_OK, "%s: %s", sql, err ? err : sqlite3_errstr(rc));
}

static void loops(const char *name, const char *mode) {
  char sql[128];
  sqlite3 *db = open_db(name);
  snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s; CREATE TABLE IF NOT EXISTS t(x);", mode);
  exec(db, sql);
  sqlite3_close(db);
  int before = count_fds();
  for (int i = 0; i < 300; i++) {
    db = open_db(name);
    exec(db, "INSERT INTO t VALUES(randomblob(100))");
    CHECK(sqlite3_close(db) == SQLITE_OK, "close");
  }
  int after = count_fds();
  CHECK(before == after, "%s: %d descriptors before 300 open/close, %d after", mode, before, after);
}

static void *writer(void *arg) {
  (void)arg;
  sqlite3 *db = open_db("threads.db");
  for (int i = 0; i < 200; i++) exec(db, "INSERT INTO t VALUES(1)");
  sqlite3_close(db);
  return NULL;
}

static void threads(void) {
  sqlite3 *db = open_db("threads.db");
  exec(db, "PRAGMA journal_mode=wal; CREATE TABLE t(x);");
  pthread_t th[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, writer, NULL) == 0, "pthread_create");
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK, "prepare");
  CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 800, "800 rows from 4 threads, got %d",
        sqlite3_column_int(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static void refusal(void) {
  sqlite3 *db = open_db("refuse.db");
  exec(db, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  char *err = NULL;
  int rc = sqlite3_exec(db, "PRAGMA journal_mode=delete", NULL, NULL, &err);
  CHECK(rc != SQLITE_OK && err && strstr(err, "walguard refused journal_mode=delete on ") && strstr(err, "refuse.db") &&
            strstr(err, "leaving WAL is deliberate"),
        "journal_mode=delete in WAL: rc %d, %s", rc, err ? err : "no message");
  sqlite3_free(err);
  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(db, "PRAGMA walguard_status", -1, &st, NULL) == SQLITE_OK, "prepare status");
  CHECK(sqlite3_step(st) == SQLITE_ROW, "status row");
  const char *json = (const char *)sqlite3_column_text(st, 0);
  CHECK(json && json[0] == '{' && strstr(json, "\"last_refusal\":{\"op\":\"journal_mode=delete\""), "status: %s",
        json ? json : "null");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* A retryable refusal of journal_mode waits as long as busy_timeout says
** (the connection's busy handler), then fails with SQLITE_BUSY and the
** reason: here a rollback writer stays open, so WAL is refused. */
static void refusal_waits(void) {
  sqlite3 *a = open_db("wait.db");
  exec(a, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  sqlite3 *b = open_db("wait.db");
  sqlite3_busy_timeout(b, 300);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  char *err = NULL;
  int rc = sqlite3_exec(b, "PRAGMA journal_mode=wal", NULL, NULL, &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  CHECK(rc == SQLITE_BUSY && err && strstr(err, "WAL while rollback writers live"),
        "journal_mode=wal beside a rollback writer: rc %d, %s", rc, err ? err : "no message");
  CHECK(ms >= 250, "the refused pragma returned after %.0f ms, before busy_timeout (300 ms)", ms);
  sqlite3_free(err);
  sqlite3_close(b);
  sqlite3_close(a);
}

/* read_record decodes the record of name's sidecar. */
static void read_record(const char *name, wg_record *r) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s-walguard", g_dir, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0, "open %s", path);
  uint8_t b[WG_RECORD_SIZE];
  ssize_t n = pread(fd, b, sizeof b, 0);
  close(fd);
  char why[300];
  CHECK(wg_decode_record(b, n < 0 ? 0 : (size_t)n, r, why, sizeof why) == WG_OK, "record of %s: %s", path, why);
}

/* An interrupted switch: the record says a switch to WAL by a process
** that has exited (its slot free) is pending, the header still says
** rollback. The first read resolves it: "never reached the header". */
static void interrupted(void) {
  sqlite3 *db = open_db("intent.db");
  exec(db, "PRAGMA journal_mode=delete; CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  sqlite3_close(db);
  pid_t child = fork();
  CHECK(child >= 0, "fork");
  if (child == 0) _exit(0);
  CHECK(waitpid(child, NULL, 0) == child, "waitpid");
  wg_record r;
  read_record("intent.db", &r);
  r.family = WG_FAMILY_WAL;
  r.mode = WG_MODE_WAL;
  r.reason = WG_R_PRAGMA;
  r.setter_pid = (uint32_t)child;
  r.generation++;
  r.switch_pending = 1;
  r.switch_from = WG_FAMILY_ROLLBACK;
  r.switch_slot = 5;
  uint8_t b[WG_RECORD_SIZE];
  wg_encode_record(&r, b);
  char path[4200];
  snprintf(path, sizeof path, "%s/intent.db-walguard", g_dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  CHECK(fd >= 0 && pwrite(fd, b, sizeof b, 0) == (ssize_t)sizeof b, "write the intent to %s", path);
  close(fd);
  db = open_db("intent.db");
  exec(db, "SELECT count(*) FROM t");
  sqlite3_close(db);
  read_record("intent.db", &r);
  CHECK(!r.switch_pending && r.family == WG_FAMILY_ROLLBACK && r.mode == WG_MODE_DELETE && r.reason == WG_R_RECOVERED &&
            strstr(r.detail, "interrupted; never reached the header"),
        "record after the read: pending %d, family %d, mode %d, reason %d, %s", r.switch_pending, r.family, r.mode,
        r.reason, r.detail);
}

/* status returns db's PRAGMA walguard_status (sqlite3_free it). */
static char *status(sqlite3 *db) {
  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(db, "PRAGMA walguard_status", -1, &st, NULL) == SQLITE_OK, "prepare status");
  CHECK(sqlite3_step(st) == SQLITE_ROW, "status row");
  char *json = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return json;
}

/* A child on the plain unix VFS holds foreign.db in WAL (SHARED on the
** database, DMS on the -shm): the status lists it, with its pid. It is
** forked while this process has no connection to foreign.db, so that its
** SQLite starts with no state about the file. */
static void foreign(void) {
  sqlite3 *db = open_db("foreign.db");
  exec(db, "PRAGMA journal_mode=wal; CREATE TABLE t(x);");
  sqlite3_close(db);
  int ready[2], done[2];
  CHECK(pipe(ready) == 0 && pipe(done) == 0, "pipe");
  pid_t child = fork();
  CHECK(child >= 0, "fork");
  if (child == 0) {
    char path[4200], c = 1;
    close(ready[0]);
    close(done[1]); /* so that the parent's exit ends the read below */
    snprintf(path, sizeof path, "%s/foreign.db", g_dir);
    sqlite3 *plain;
    if (sqlite3_open_v2(path, &plain, SQLITE_OPEN_READWRITE, "unix") != SQLITE_OK ||
        sqlite3_exec(plain, "SELECT count(*) FROM t", NULL, NULL, NULL) != SQLITE_OK || write(ready[1], &c, 1) != 1)
      _exit(1);
    while (read(done[0], &c, 1) < 0) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char c;
  CHECK(read(ready[0], &c, 1) == 1, "the plain child did not open foreign.db");
  db = open_db("foreign.db");
  exec(db, "SELECT count(*) FROM t");
  char *json = status(db), want[128];
  snprintf(want, sizeof want, "\"without_walguard\":[{\"pid\":%d,\"command\":", (int)child);
  CHECK(json && strstr(json, want) && strstr(json, "\"protocol\":\"posix\",\"locks\":[\"db SHARED\",\"shm DMS\"]}]"),
        "status beside a plain child pid %d: %s", (int)child, json ? json : "null");
  sqlite3_free(json);
  c = 1;
  CHECK(write(done[1], &c, 1) == 1, "write");
  int st;
  CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the plain child failed");
  close(ready[0]);
  close(done[1]);
  sqlite3_close(db);
}

/* settle: the database is made through the plain unix VFS (no fault);
** through walguard every SHARED lock fails with ENOLCK, on fresh
** descriptors too, so the rollback family settles. */
static void settle(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/settle.db", g_dir);
  sqlite3 *plain;
  CHECK(sqlite3_open_v2(path, &plain, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "unix") == SQLITE_OK, "open %s", path);
  exec(plain, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  sqlite3_close(plain);
  sqlite3 *db = open_db("settle.db");
  sqlite3_busy_timeout(db, 0);
  int rc = sqlite3_exec(db, "SELECT count(*) FROM t", NULL, NULL, NULL);
  CHECK(rc == SQLITE_IOERR_LOCK || (rc & 0xff) == SQLITE_IOERR, "a read with every lock failing: rc %d %s", rc,
        sqlite3_errmsg(db));
  char *json = status(db);
  CHECK(json && strstr(json, "\"reason\":\"deterministic incompatibility\"") && strstr(json, "\"settled\":1"),
        "status after a lasting ENOLCK: %s", json ? json : "null");
  sqlite3_free(json);
  sqlite3_close(db);
}

int main(int argc, char **argv) {
  CHECK(argc == 3 || (argc == 4 && strcmp(argv[3], "settle") == 0), "usage: wg_driver LIBWALGUARD DIR [settle]");
  g_lib = argv[1];
  g_dir = argv[2];
  sqlite3 *db;
  CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK, "open :memory:");
  sqlite3_enable_load_extension(db, 1);
  char *err = NULL;
  CHECK(sqlite3_load_extension(db, g_lib, NULL, &err) == SQLITE_OK, "load %s: %s", g_lib, err ? err : "");
  sqlite3_close(db);
  if (argc == 4) {
    settle();
    printf("wg_driver: settle ok\n");
    return 0;
  }
  loops("wal.db", "wal");
  loops("delete.db", "delete");
  threads();
  refusal();
  refusal_waits();
  interrupted();
  foreign();
  printf("wg_driver: ok\n");
  return 0;
}
