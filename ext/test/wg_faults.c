/*
** wg_faults.c: a fault-injecting VFS for libwalguard's tests, compiled
** into a test build only (-DWG_TEST_FAULTS): "wgfault" passes everything
** to the default VFS except -wal opens, which fail with SQLITE_IOERR
** ("disk I/O error", errno EIO) as the environment says:
**
**   WG_FAULT_WAL_OPENS=n   the first n -wal opens of the process fail
**   WG_FAULT_WAL_P=p       then each -wal open fails with probability p%
**   WG_FAULT_SEED=s        seeds that draw (deterministic per process)
**   WG_FAULT_LOCK_ENOLCK=n the first n xLock(SHARED) calls on main
**                          databases fail with SQLITE_IOERR_LOCK, errno
**                          ENOLCK (a filesystem without locks); -1: all
**   WG_FAULT_KILL_AT=n     the process SIGKILLs itself at its nth write,
**                          sync or truncate of a database, journal or WAL
**                          file, or delete of one, after printing
**                          "killing at WHAT" (a switch killed midway)
**
** In the test build, walguard's base is "wgfault", so the guarded VFS and
** the plain one ("wgfault" itself, the guard off) meet the same faults.
*/
#define _GNU_SOURCE
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sqlite3_vfs fault_vfs, *fault_base;
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
static int fault_first;       /* guarded by fault_mu */
static int fault_p;           /* percent */
static unsigned long long fault_state; /* guarded by fault_mu */

static int fault_fires(void) {
  pthread_mutex_lock(&fault_mu);
  int fire = 0;
  if (fault_first > 0) {
    fault_first--;
    fire = 1;
  } else if (fault_p > 0) {
    fault_state = fault_state * 6364136223846793005ULL + 1442695040888963407ULL;
    fire = (int)((fault_state >> 33) % 100) < fault_p;
  }
  pthread_mutex_unlock(&fault_mu);
  return fire;
}

static int fault_locks; /* guarded by fault_mu */

static int lock_fires(void) {
  pthread_mutex_lock(&fault_mu);
  int fire = fault_locks != 0;
  if (fault_locks > 0) fault_locks--;
  pthread_mutex_unlock(&fault_mu);
  return fire;
}

static long kill_at, kill_count; /* guarded by fault_mu */

/* kill_point counts a write-side call and kills the process at kill_at. */
static void kill_point(const char *what) {
  pthread_mutex_lock(&fault_mu);
  int fire = kill_at > 0 && ++kill_count == kill_at;
  pthread_mutex_unlock(&fault_mu);
  if (!fire) return;
  char line[128];
  int n = snprintf(line, sizeof line, "killing at %s %ld\n", what, kill_at);
  if (write(1, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1)) < 0) {
  }
  kill(getpid(), SIGKILL);
  for (;;) pause();
}

/* Files get the base's methods with xLock and the write-side calls
** wrapped: the base file is used as is (same size), only its method table
** is replaced. SQLite's unix VFS gives databases one table and journals
** and WALs another (no locks), so there are two. */
static const sqlite3_io_methods *wrap_base[2]; /* the base's tables, set once each under fault_mu */
static sqlite3_io_methods wrap_methods[2];

static const sqlite3_io_methods *base_of(sqlite3_file *f) {
  return f->pMethods == &wrap_methods[0] ? wrap_base[0] : wrap_base[1];
}

static int faultLock(sqlite3_file *f, int level) {
  if (level == SQLITE_LOCK_SHARED && lock_fires()) {
    errno = ENOLCK;
    return SQLITE_IOERR_LOCK;
  }
  return base_of(f)->xLock(f, level);
}

static int faultWrite(sqlite3_file *f, const void *p, int n, sqlite3_int64 off) {
  kill_point(off == 0 ? "write at 0" : "write");
  return base_of(f)->xWrite(f, p, n, off);
}

static int faultSync(sqlite3_file *f, int flags) {
  kill_point("sync");
  return base_of(f)->xSync(f, flags);
}

static int faultTruncate(sqlite3_file *f, sqlite3_int64 size) {
  kill_point("truncate");
  return base_of(f)->xTruncate(f, size);
}

/* wrap replaces f's methods with the wrapped copy of its table. */
static void wrap(sqlite3_file *f) {
  pthread_mutex_lock(&fault_mu);
  if (fault_locks != 0 || kill_at > 0) {
    for (int i = 0; i < 2; i++) {
      if (!wrap_base[i]) {
        wrap_base[i] = f->pMethods;
        wrap_methods[i] = *f->pMethods;
        wrap_methods[i].xLock = faultLock;
        wrap_methods[i].xWrite = faultWrite;
        wrap_methods[i].xSync = faultSync;
        wrap_methods[i].xTruncate = faultTruncate;
      }
      if (f->pMethods == wrap_base[i]) {
        f->pMethods = &wrap_methods[i];
        break;
      }
    }
  }
  pthread_mutex_unlock(&fault_mu);
}

static int faultOpen(sqlite3_vfs *v, sqlite3_filename z, sqlite3_file *f, int flags, int *out) {
  (void)v;
  if ((flags & SQLITE_OPEN_WAL) && fault_fires()) {
    f->pMethods = NULL;
    errno = EIO;
    return SQLITE_IOERR;
  }
  int rc = fault_base->xOpen(fault_base, z, f, flags, out);
  if (rc == SQLITE_OK && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL)) && f->pMethods)
    wrap(f);
  return rc;
}

static int faultDelete(sqlite3_vfs *v, const char *z, int s) {
  (void)v;
  kill_point("delete");
  return fault_base->xDelete(fault_base, z, s);
}
static int faultAccess(sqlite3_vfs *v, const char *z, int f, int *r) { (void)v; return fault_base->xAccess(fault_base, z, f, r); }
static int faultFull(sqlite3_vfs *v, const char *z, int n, char *o) { (void)v; return fault_base->xFullPathname(fault_base, z, n, o); }
static void *faultDlOpen(sqlite3_vfs *v, const char *z) { (void)v; return fault_base->xDlOpen(fault_base, z); }
static void faultDlError(sqlite3_vfs *v, int n, char *z) { (void)v; fault_base->xDlError(fault_base, n, z); }
static void (*faultDlSym(sqlite3_vfs *v, void *h, const char *z))(void) { (void)v; return fault_base->xDlSym(fault_base, h, z); }
static void faultDlClose(sqlite3_vfs *v, void *h) { (void)v; fault_base->xDlClose(fault_base, h); }
static int faultRandomness(sqlite3_vfs *v, int n, char *z) { (void)v; return fault_base->xRandomness(fault_base, n, z); }
static int faultSleep(sqlite3_vfs *v, int us) { (void)v; return fault_base->xSleep(fault_base, us); }
static int faultTime(sqlite3_vfs *v, double *t) { (void)v; return fault_base->xCurrentTime(fault_base, t); }
static int faultLastError(sqlite3_vfs *v, int n, char *z) { (void)v; return fault_base->xGetLastError(fault_base, n, z); }
static int faultTime64(sqlite3_vfs *v, sqlite3_int64 *t) { (void)v; return fault_base->xCurrentTimeInt64(fault_base, t); }

/* wg_fault_vfs registers "wgfault" over base and returns it. */
sqlite3_vfs *wg_fault_vfs(sqlite3_vfs *base);
sqlite3_vfs *wg_fault_vfs(sqlite3_vfs *base) {
  const char *e;
  fault_base = base;
  if ((e = getenv("WG_FAULT_WAL_OPENS"))) fault_first = atoi(e);
  if ((e = getenv("WG_FAULT_WAL_P"))) fault_p = atoi(e);
  if ((e = getenv("WG_FAULT_SEED"))) fault_state = strtoull(e, NULL, 10);
  if ((e = getenv("WG_FAULT_LOCK_ENOLCK"))) fault_locks = atoi(e);
  if ((e = getenv("WG_FAULT_KILL_AT"))) kill_at = atol(e);
  sqlite3_vfs v = {
    2, base->szOsFile, base->mxPathname, NULL, "wgfault", NULL, faultOpen, faultDelete, faultAccess, faultFull,
    faultDlOpen, faultDlError, faultDlSym, faultDlClose, faultRandomness, faultSleep, faultTime, faultLastError,
    faultTime64, NULL, NULL, NULL,
  };
  fault_vfs = v;
  sqlite3_vfs_register(&fault_vfs, 0);
  return &fault_vfs;
}
