/*
** wg_sidecar.c: the sidecar file and its OFD locks, mirrored on the
** database (sidecar/sidecar.go, mirror.go, internal/filelock/ofd_unix.go).
**
** Descriptors of the database and POSIX locks: closing any descriptor of a
** file drops every POSIX (fcntl F_SETLK) lock the process holds on it, and
** the SQLite this extension wraps locks with POSIX locks. So the mirror
** descriptor of a database is never closed while a walguard connection of
** this process has it open: its OFD locks are released explicitly and the
** descriptor waits in a per-inode pool for the next connection, and the
** pool is closed with the last connection of the process to that file.
**
** Fork: an OFD lock belongs to the open file description, which a forked
** child shares; the lock would outlive the parent's close. A pthread_atfork
** child handler points every descriptor of an open sidecar and its mirror
** at /dev/null in the child (dup2, so the numbers stay taken), which drops
** the child's references and nothing else, and bumps the fork generation:
** connections inherited across fork are refused at their next gate.
*/
#define _GNU_SOURCE
#include "wg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef F_OFD_SETLK
#error "libwalguard needs OFD locks (F_OFD_SETLK, Linux 3.15+)"
#endif

struct wg_inode {
  dev_t dev;
  ino_t ino;
  int nref;        /* open sidecars using this inode's mirror */
  int unused[8];   /* mirror descriptors without locks, waiting for reuse */
  int nunused;
  struct wg_inode *next;
};

/* g_mu guards g_inodes, g_sides and the fork handlers' walk of them. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static wg_inode *g_inodes;  /* guarded by g_mu */
static wg_side *g_sides;    /* guarded by g_mu */
static unsigned g_fork_gen; /* written in the child handler only */

static void fork_prepare(void) { pthread_mutex_lock(&g_mu); }
static void fork_parent(void) { pthread_mutex_unlock(&g_mu); }

static void fork_child(void) {
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  for (wg_side *s = g_sides; s; s = s->next) {
    if (devnull >= 0) {
      if (s->fd >= 0) dup2(devnull, s->fd);
      if (s->mirror >= 0) dup2(devnull, s->mirror);
    }
    s->inode = NULL; /* the pool is the parent's */
  }
  if (devnull >= 0) close(devnull);
  /* Pooled descriptors hold no lock; the child forgets them (closing one
  ** could drop a POSIX lock the child's own SQLite takes later). */
  g_inodes = NULL;
  g_sides = NULL;
  __atomic_add_fetch(&g_fork_gen, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&g_mu);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void fork_register(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

void wg_fork_init(void) { pthread_once(&fork_once, fork_register); }

unsigned wg_fork_generation(void) { return __atomic_load_n(&g_fork_gen, __ATOMIC_ACQUIRE); }

int wg_side_forked(const wg_side *s) { return s->gen != wg_fork_generation(); }

int64_t wg_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- OFD byte locks (internal/filelock/ofd_unix.go) ---- */

static int ofd(int fd, int cmd, short type, long long off, long long len, struct flock *out) {
  struct flock lk;
  memset(&lk, 0, sizeof lk);
  lk.l_type = type;
  lk.l_whence = SEEK_SET;
  lk.l_start = off;
  lk.l_len = len;
  for (;;) {
    if (fcntl(fd, cmd, &lk) == 0) {
      if (out) *out = lk;
      return 0;
    }
    if (errno == EINTR) continue;
    if (cmd == F_OFD_SETLK && (errno == EAGAIN || errno == EACCES)) return WG_HELD;
    return -errno;
  }
}

/* wg_test_lock_fd reports whether another open file description holds a
** lock that conflicts with an exclusive lock on the byte: 1 held, 0 free. */
int wg_test_lock_fd(int fd, long long off) {
  struct flock lk;
  memset(&lk, 0, sizeof lk);
  int rc = ofd(fd, F_OFD_GETLK, F_WRLCK, off, 1, &lk);
  if (rc) return rc;
  return lk.l_type != F_UNLCK;
}

/* try_lock takes the byte on the sidecar, then its mirror; a held mirror
** gives the sidecar byte back (a participant of a replaced sidecar). */
static int try_lock(wg_side *s, long long off, int exclusive) {
  short type = exclusive ? F_WRLCK : F_RDLCK;
  int rc = ofd(s->fd, F_OFD_SETLK, type, off, 1, NULL);
  if (rc || s->mirror < 0) return rc;
  rc = ofd(s->mirror, F_OFD_SETLK, type, WG_MIRROR_BYTE(off), 1, NULL);
  if (rc) ofd(s->fd, F_OFD_SETLK, F_UNLCK, off, 1, NULL);
  return rc;
}

static int unlock_byte(wg_side *s, long long off) {
  int rc = 0;
  if (s->mirror >= 0) rc = ofd(s->mirror, F_OFD_SETLK, F_UNLCK, WG_MIRROR_BYTE(off), 1, NULL);
  int rc2 = ofd(s->fd, F_OFD_SETLK, F_UNLCK, off, 1, NULL);
  return rc ? rc : rc2;
}

/* wg_side_others_hold: another open holds the byte, on the sidecar or on
** the database's mirror. 1 held, 0 free, -errno. */
int wg_side_others_hold(wg_side *s, long long off) {
  int held = wg_test_lock_fd(s->fd, off);
  if (held != 0 || s->mirror < 0) return held;
  return wg_test_lock_fd(s->mirror, WG_MIRROR_BYTE(off));
}

/* ---- the mirror descriptor pool ---- */

static int mirror_acquire(wg_side *s, const char *db) {
  struct stat st;
  if (stat(db, &st) != 0) return errno == ENOENT ? 0 : -errno;
  pthread_mutex_lock(&g_mu);
  wg_inode *in = g_inodes;
  while (in && !(in->dev == st.st_dev && in->ino == st.st_ino)) in = in->next;
  if (in && in->nunused > 0) {
    s->mirror = in->unused[--in->nunused];
    in->nref++;
    s->inode = in;
    pthread_mutex_unlock(&g_mu);
    return 0;
  }
  pthread_mutex_unlock(&g_mu);
  int fd = open(db, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -errno;
  struct stat fst;
  if (fstat(fd, &fst) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  pthread_mutex_lock(&g_mu);
  in = g_inodes;
  while (in && !(in->dev == fst.st_dev && in->ino == fst.st_ino)) in = in->next;
  if (!in) {
    in = calloc(1, sizeof *in);
    if (!in) {
      pthread_mutex_unlock(&g_mu);
      close(fd);
      return -ENOMEM;
    }
    in->dev = fst.st_dev;
    in->ino = fst.st_ino;
    in->next = g_inodes;
    g_inodes = in;
  }
  in->nref++;
  s->inode = in;
  s->mirror = fd;
  pthread_mutex_unlock(&g_mu);
  return 0;
}

/* mirror_release: the caller has released every mirror lock already. */
static void mirror_release(wg_side *s) {
  if (s->mirror < 0) return;
  pthread_mutex_lock(&g_mu);
  wg_inode *in = s->inode;
  if (!in) { /* inherited across fork: the descriptor is /dev/null */
    pthread_mutex_unlock(&g_mu);
    close(s->mirror);
    s->mirror = -1;
    return;
  }
  in->nref--;
  if (in->nref > 0 && in->nunused < (int)(sizeof in->unused / sizeof in->unused[0])) {
    in->unused[in->nunused++] = s->mirror;
  } else if (in->nref > 0) {
    /* A full pool keeps the descriptor open for good rather than drop
    ** another connection's POSIX locks. Not reached below 9 connections
    ** closing at once. */
  } else {
    for (int i = 0; i < in->nunused; i++) close(in->unused[i]);
    close(s->mirror);
    wg_inode **pp = &g_inodes;
    while (*pp && *pp != in) pp = &(*pp)->next;
    if (*pp) *pp = in->next;
    free(in);
  }
  s->mirror = -1;
  s->inode = NULL;
  pthread_mutex_unlock(&g_mu);
}

/* ---- open and close ---- */

static void side_link(wg_side *s) {
  pthread_mutex_lock(&g_mu);
  s->gen = wg_fork_generation();
  s->prev = NULL;
  s->next = g_sides;
  if (g_sides) g_sides->prev = s;
  g_sides = s;
  pthread_mutex_unlock(&g_mu);
}

static void side_unlink(wg_side *s) {
  pthread_mutex_lock(&g_mu);
  if (!wg_side_forked(s)) {
    if (s->prev) s->prev->next = s->next;
    else if (g_sides == s) g_sides = s->next;
    if (s->next) s->next->prev = s->prev;
  }
  s->next = s->prev = NULL;
  pthread_mutex_unlock(&g_mu);
}

/* wg_side_open opens, creating it with mode perm if needed, the sidecar of
** the database at db, refusing a symbolic link or anything but a regular
** file, and opens the database's mirror descriptor. 0 or -errno, with why. */
int wg_side_open(wg_side *s, const char *db, unsigned perm, char *why, size_t whylen) {
  memset(s, 0, sizeof *s);
  s->fd = s->mirror = s->slot = -1;
  if (wg_sidecar_path(db, s->path, sizeof s->path) != 0) {
    snprintf(why, whylen, "the sidecar's path is too long");
    return -ENAMETOOLONG;
  }
  struct stat st;
  if (lstat(s->path, &st) == 0 && S_ISLNK(st.st_mode)) {
    snprintf(why, whylen, "%s: sidecar is a symbolic link; refusing to follow it", s->path);
    return -ELOOP;
  }
  if (perm == 0) perm = 0644;
  int fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, perm);
  if (fd >= 0) {
    /* The umask may have narrowed the mode; the sidecar must be as open
    ** as the database, or other users of the database lock out. */
    if (fchmod(fd, perm) != 0) {
      int e = errno;
      close(fd);
      snprintf(why, whylen, "%s: chmod: %s", s->path, strerror(e));
      return -e;
    }
    /* Preallocate the data area (zeros read as never written). */
    static const uint8_t zeros[WG_DATA_SIZE];
    if (pwrite(fd, zeros, sizeof zeros, 0) < 0) { /* a full disk: entries are descriptions */ }
  } else if (errno == EEXIST) {
    fd = open(s->path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  }
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP) snprintf(why, whylen, "%s: sidecar is a symbolic link; refusing to follow it", s->path);
    else snprintf(why, whylen, "%s: open: %s", s->path, strerror(e));
    return -e;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = errno;
    close(fd);
    snprintf(why, whylen, "%s: sidecar is not a regular file", s->path);
    return e ? -e : -EINVAL;
  }
  s->fd = fd;
  int rc = mirror_acquire(s, db);
  if (rc) {
    close(fd);
    s->fd = -1;
    snprintf(why, whylen, "open %s to mirror the sidecar's locks: %s", db, strerror(-rc));
    return rc;
  }
  side_link(s);
  return 0;
}

/* wg_side_close releases every lock this open holds and closes it. */
void wg_side_close(wg_side *s) {
  if (s->fd < 0) return;
  side_unlink(s);
  if (s->mirror >= 0 && !wg_side_forked(s)) {
    /* Every mirror byte at once: agreement, protocols, families, slots. */
    ofd(s->mirror, F_OFD_SETLK, F_UNLCK, WG_MIRROR_BASE, 64 + WG_MAX_SLOTS, NULL);
  }
  mirror_release(s);
  close(s->fd); /* drops the sidecar's OFD locks */
  s->fd = -1;
  s->slot = -1;
  s->protocol = s->family = 0;
}

/* ---- the agreement byte, the record, the slots ---- */

/* wg_side_lock_agreement takes the agreement byte exclusively, trying for
** up to wait_ns: 0, WG_HELD after the wait, or -errno. */
int wg_side_lock_agreement(wg_side *s, int64_t wait_ns) {
  int64_t deadline = wg_now_ns() + wait_ns;
  long delay = 50000;
  for (;;) {
    int rc = try_lock(s, WG_AGREEMENT_BYTE, 1);
    if (rc != WG_HELD) return rc;
    if (wg_now_ns() > deadline) return WG_HELD;
    struct timespec ts = {0, delay};
    nanosleep(&ts, NULL);
    delay = delay * 2 > 5000000 ? 5000000 : delay * 2;
  }
}

void wg_side_unlock_agreement(wg_side *s) { unlock_byte(s, WG_AGREEMENT_BYTE); }

/* wg_side_read_record: WG_OK, a WG_ERR_* decode error, or -errno. */
int wg_side_read_record(wg_side *s, wg_record *r, char *why, size_t whylen) {
  uint8_t buf[WG_RECORD_SIZE];
  ssize_t n;
  do n = pread(s->fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    snprintf(why, whylen, "%s: read: %s", s->path, strerror(errno));
    return -errno;
  }
  return wg_decode_record(buf, (size_t)n, r, why, whylen);
}

/* wg_side_write_record writes the record and syncs it. */
int wg_side_write_record(wg_side *s, const wg_record *r) {
  uint8_t buf[WG_RECORD_SIZE];
  wg_encode_record(r, buf);
  ssize_t n;
  do n = pwrite(s->fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  if (n != (ssize_t)sizeof buf) return -EIO;
  if (fsync(s->fd) != 0) return -errno;
  return 0;
}

/* wg_side_acquire_slot takes the first free slot: its index, -ENOSPC when
** every slot is owned, or another -errno. */
int wg_side_acquire_slot(wg_side *s) {
  if (s->slot >= 0) return s->slot;
  for (int i = 0; i < WG_MAX_SLOTS; i++) {
    int rc = try_lock(s, WG_SLOT_BYTE(i), 1);
    if (rc == 0) return s->slot = i;
    if (rc != WG_HELD) return rc;
  }
  return -ENOSPC;
}

/* wg_side_write_slot writes the owned slot's entry; no sync, liveness is
** the lock. */
int wg_side_write_slot(wg_side *s, const wg_slot *e) {
  if (s->slot < 0) return -EINVAL;
  uint8_t buf[WG_SLOT_SIZE];
  wg_encode_slot(e, buf);
  ssize_t n;
  do n = pwrite(s->fd, buf, sizeof buf, WG_SLOT_TABLE_OFFSET + (off_t)s->slot * WG_SLOT_SIZE);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

int wg_side_hold_protocol(wg_side *s, int p) {
  if (s->protocol == p) return 0;
  if (s->protocol) {
    int rc = unlock_byte(s, WG_PROTOCOL_BYTE(s->protocol));
    if (rc) return rc;
    s->protocol = 0;
  }
  int rc = try_lock(s, WG_PROTOCOL_BYTE(p), 0);
  if (rc == 0) s->protocol = p;
  return rc;
}

int wg_side_release_family(wg_side *s) {
  if (!s->family) return 0;
  int rc = unlock_byte(s, WG_FAMILY_BYTE(s->family));
  if (rc) return rc;
  s->family = 0;
  return 0;
}

int wg_side_hold_family(wg_side *s, int f) {
  if (s->family == f) return 0;
  int rc = wg_side_release_family(s);
  if (rc) return rc;
  rc = try_lock(s, WG_FAMILY_BYTE(f), 0);
  if (rc == 0) s->family = f;
  return rc;
}

/* wg_side_live_elsewhere: a participant holds a protocol byte on the
** database's mirror, whatever this sidecar says. */
int wg_side_live_elsewhere(wg_side *s) {
  if (s->mirror < 0) return 0;
  for (int p = 0; p < WG_NUM_PROTOCOLS; p++) {
    int held = wg_test_lock_fd(s->mirror, WG_MIRROR_BYTE(WG_PROTOCOL_BYTE(p)));
    if (held) return held;
  }
  return 0;
}

int wg_side_other_host_live(wg_side *s, const char *host, char *out, size_t outlen) {
  static __thread uint8_t table[WG_SLOT_SIZE * WG_MAX_SLOTS];
  ssize_t n;
  do n = pread(s->fd, table, sizeof table, WG_SLOT_TABLE_OFFSET);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (int i = 0; i < WG_MAX_SLOTS; i++) {
    size_t lo = (size_t)i * WG_SLOT_SIZE;
    if (i == s->slot || lo + WG_SLOT_SIZE > (size_t)n) continue;
    /* Entries never written are the common case: skip them on the magic. */
    if (table[lo] != 'W') continue;
    wg_slot e;
    if (wg_decode_slot(table + lo, WG_SLOT_SIZE, &e, NULL, 0) != WG_OK) continue;
    if (strcmp(e.host, host) == 0) continue;
    int held = wg_test_lock_fd(s->fd, WG_SLOT_BYTE(i));
    if (held < 0) return held;
    if (held) {
      snprintf(out, outlen, "%s", e.host);
      return 1;
    }
  }
  return 0;
}

int wg_side_slot_live(wg_side *s, int i, uint32_t pid, const char *host) {
  if (i < 0 || i >= WG_MAX_SLOTS || i == s->slot) return 0;
  uint8_t b[WG_SLOT_SIZE];
  ssize_t n;
  do n = pread(s->fd, b, sizeof b, WG_SLOT_TABLE_OFFSET + (off_t)i * WG_SLOT_SIZE);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  wg_slot e;
  if (wg_decode_slot(b, (size_t)n, &e, NULL, 0) != WG_OK || e.pid != pid || strcmp(e.host, host) != 0) return 0;
  return wg_test_lock_fd(s->fd, WG_SLOT_BYTE(i));
}

/* wg_side_probe_db_locks tests SQLite's own lock bytes on the database
** (sidecar/foreign.go): F_OFD_GETLK over PENDING..SHARED sees POSIX and
** OFD holders; a flock LOCK_NB probe sees flock holders. */
int wg_side_probe_db_locks(wg_side *s, int *fcntl_pid, int *flock_held) {
  *fcntl_pid = 0;
  *flock_held = 0;
  if (s->mirror < 0) return 0;
  struct flock lk;
  memset(&lk, 0, sizeof lk);
  int rc = ofd(s->mirror, F_OFD_GETLK, F_WRLCK, WG_SQLITE_PENDING_BYTE, WG_SQLITE_LOCK_BYTES, &lk);
  if (rc) return rc;
  if (lk.l_type != F_UNLCK) *fcntl_pid = lk.l_pid > 0 ? lk.l_pid : -1;
  for (;;) {
    if (flock(s->mirror, LOCK_EX | LOCK_NB) == 0) {
      while (flock(s->mirror, LOCK_UN) != 0 && errno == EINTR) {
      }
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      *flock_held = 1;
      return 0;
    }
    return -errno;
  }
}

/* ---- who we are (internal/hostid, Options.Program) ---- */

static char g_host[WG_HOST_FIELD];
static char g_program[WG_PROGRAM_FIELD];
static pthread_once_t ident_once = PTHREAD_ONCE_INIT;

/* ident_init composes the host identity exactly as Go's hostid.Identity
** (wg_compose_identity) and the program name as Go's Options.Program. */
static void ident_init(void) {
  char host[256] = "", id[64] = "";
  if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  host[sizeof host - 1] = 0;
  size_t idlen = 0;
  FILE *f = fopen("/etc/machine-id", "re");
  if (f) {
    idlen = fread(id, 1, sizeof id - 1, f);
    fclose(f);
  }
  wg_compose_identity(host, strlen(host), id, idlen, g_host);

  /* The program: the base name of argv[0], as Go's Options.Program. */
  char cmd[4096] = "";
  f = fopen("/proc/self/cmdline", "re");
  if (f) {
    size_t n = fread(cmd, 1, sizeof cmd - 1, f);
    cmd[n] = 0;
    fclose(f);
  }
  const char *base = strrchr(cmd, '/');
  base = base ? base + 1 : cmd;
  if (!*base) base = program_invocation_short_name;
  wg_copy_text(g_program, sizeof g_program, base);
}

const char *wg_host_identity(void) {
  pthread_once(&ident_once, ident_init);
  return g_host;
}

const char *wg_program_name(void) {
  pthread_once(&ident_once, ident_init);
  return g_program;
}

/* ---- a WAL writer through another name (sidecar/othername.go) ---- */

/* SQLite's dead-man-switch byte in a -shm (os_unix.c UNIX_SHM_DMS): every
** connection with the WAL-index open holds a read lock on it. */
#define WG_SHM_DMS (120 + 8)

/* shm_in_use: another open holds a lock on the -shm's dead-man switch, so
** some connection has that WAL-index open; 0 if it does not exist. */
static int shm_in_use(const char *db) {
  char path[4096 + 16];
  if ((size_t)snprintf(path, sizeof path, "%s-shm", db) >= sizeof path) return 1; /* cannot tell: no refusal */
  int fd;
  do fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno == ENOENT ? 0 : -errno;
  int held = wg_test_lock_fd(fd, WG_SHM_DMS);
  close(fd);
  return held;
}

/* mirror_only_slot: a slot in [lo, hi) is held on the mirror but not on
** this sidecar. F_OFD_GETLK answers with one held range, not necessarily
** the lowest, so both sides of it are tested again. */
static int mirror_only_slot(wg_side *s, int lo, int hi) {
  if (lo >= hi) return 0;
  long long base = WG_MIRROR_BYTE(WG_SLOT_BYTE(0));
  struct flock lk;
  int rc = ofd(s->mirror, F_OFD_GETLK, F_WRLCK, base + lo, hi - lo, &lk);
  if (rc) return rc;
  if (lk.l_type == F_UNLCK) return 0;
  long long first = (long long)lk.l_start - base, end = lk.l_len > 0 ? first + (long long)lk.l_len : hi;
  if (first < lo) first = lo;
  if (end > hi) end = hi;
  if (first >= end) return 0; /* not an answer inside the range asked: cannot tell */
  for (long long i = first; i < end; i++) {
    int held = wg_test_lock_fd(s->fd, WG_SLOT_BYTE(i));
    if (held <= 0) return held == 0 ? 1 : held;
  }
  if ((rc = mirror_only_slot(s, lo, (int)first))) return rc;
  return mirror_only_slot(s, (int)end, hi);
}

/* wg_side_wal_under_another_name reports whether a live participant
** declares the WAL family on the database's mirror but not on this
** sidecar, while nobody has the WAL-index of this name open and a
** participant holds a mirrored slot that this sidecar does not show: it
** reached the database through another name (renamed, or linked and
** unlinked, while open) with a -wal and -shm of its own. 1, 0 (also
** wherever it cannot tell: no mirror) or -errno. One lock test, two
** beside a live WAL participant of this name. */
int wg_side_wal_under_another_name(wg_side *s, const char *db) {
  if (s->mirror < 0) return 0;
  int held = wg_test_lock_fd(s->mirror, WG_MIRROR_BYTE(WG_FAMILY_BYTE(WG_FAMILY_WAL)));
  if (held <= 0) return held;
  /* A WAL declaration on this sidecar: WAL writers use this name. A
  ** newcomer through another name is refused and never declares, so this
  ** does not hide the writers of the old name from the next one. */
  held = wg_test_lock_fd(s->fd, WG_FAMILY_BYTE(WG_FAMILY_WAL));
  if (held) return held < 0 ? held : 0;
  int open = shm_in_use(db);
  if (open) return open < 0 ? open : 0;
  return mirror_only_slot(s, 0, WG_MAX_SLOTS);
}
