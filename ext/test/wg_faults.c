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
**
** In the test build, walguard's base is "wgfault", so the guarded VFS and
** the plain one ("wgfault" itself, the guard off) meet the same faults.
*/
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

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

/* Main databases get the base's methods with xLock wrapped: the base file
** is used as is (same size), only its method table is replaced. */
static const sqlite3_io_methods *lock_base; /* the base's methods, set once under fault_mu */
static sqlite3_io_methods lock_methods;

static int faultLock(sqlite3_file *f, int level) {
  if (level == SQLITE_LOCK_SHARED && lock_fires()) {
    errno = ENOLCK;
    return SQLITE_IOERR_LOCK;
  }
  return lock_base->xLock(f, level);
}

static int faultOpen(sqlite3_vfs *v, sqlite3_filename z, sqlite3_file *f, int flags, int *out) {
  (void)v;
  if ((flags & SQLITE_OPEN_WAL) && fault_fires()) {
    f->pMethods = NULL;
    errno = EIO;
    return SQLITE_IOERR;
  }
  int rc = fault_base->xOpen(fault_base, z, f, flags, out);
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_MAIN_DB) && f->pMethods) {
    pthread_mutex_lock(&fault_mu);
    if (!lock_base && fault_locks != 0) {
      lock_base = f->pMethods;
      lock_methods = *f->pMethods;
      lock_methods.xLock = faultLock;
    }
    if (f->pMethods == lock_base) f->pMethods = &lock_methods;
    pthread_mutex_unlock(&fault_mu);
  }
  return rc;
}

static int faultDelete(sqlite3_vfs *v, const char *z, int s) { (void)v; return fault_base->xDelete(fault_base, z, s); }
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
  sqlite3_vfs v = {
    2, base->szOsFile, base->mxPathname, NULL, "wgfault", NULL, faultOpen, faultDelete, faultAccess, faultFull,
    faultDlOpen, faultDlError, faultDlSym, faultDlClose, faultRandomness, faultSleep, faultTime, faultLastError,
    faultTime64, NULL, NULL, NULL,
  };
  fault_vfs = v;
  sqlite3_vfs_register(&fault_vfs, 0);
  return &fault_vfs;
}
