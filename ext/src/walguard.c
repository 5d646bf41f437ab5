/*
** walguard.c: libwalguard, the walguard protocol as a SQLite loadable
** extension. Loading it registers the VFS "walguard" over the default VFS
** (sqlite3_walguard_init), or registers it and makes it the process
** default (sqlite3_walguarddefault_init). A connection through it joins the
** same agreement as a Go process using github.com/walguard/walguard: one
** sidecar (app.db-walguard), the same bytes, the same lock bytes, the same
** decisions (docs/protocol.md, docs/design.md).
**
** Where each gate sits (the same points as the Go shim, vfs/):
**
**   xOpen main db        protocol join: agreement byte, record, protocol
**                        byte, SQLite's own lock bytes probed, a slot
**   xOpen -wal/-journal  family join, before SQLite can write a byte to it
**   xLock RESERVED       family join (rollback), before the -journal exists
**   xWrite -wal/-journal the family is checked again, in memory
**   xWrite page 1        a change of header bytes 18/19 is recorded first
**   xRead page 1         a header family this process did not confirm is
**                        reconciled with the record (foreign flips); under
**                        a lock, a switch intent whose switcher died is
**                        resolved from the header
**   FCNTL_PRAGMA         journal_mode gated; walguard_status answered
**
** A refusal that waiting can end is SQLITE_BUSY (busy handlers retry it);
** one that waiting cannot end is the call's own code (SQLITE_CANTOPEN for
** an open, SQLITE_IOERR_LOCK for a lock, SQLITE_ERROR for a pragma). Every
** refusal comes before the refused operation writes a byte. Its message
** names the database, the operation, the reason and whether retrying can
** help; SQLite's VFS interface carries no message outside pragmas, so it
** goes to sqlite3_log, to PRAGMA walguard_status ("last_refusal") and,
** for a refused pragma, to the statement's error.
**
** Threads: SQLite calls one sqlite3_file from one thread at a time, so
** per-file state needs no lock; what the connections of this process share
** about a database (wg_db) is atomics and a mutex.
*/
#define _GNU_SOURCE
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "wg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define WG_VFS_NAME "walguard"
/* How long a join waits for the agreement byte (Go: Options.AgreementWait). */
#define WG_AGREEMENT_WAIT_NS 1000000000LL
/* The longest refusal message kept (paths are up to 4096 bytes). */
#define WG_MSG_MAX 8192

/* Internal results of a gate: pass, a refusal retrying can end, or one it cannot. */
enum { WG_PASS = 0, WG_RETRY = 1, WG_FINAL = 2 };

/* What the connections of this process share about one database. */
typedef struct wg_db {
  char *path;
  int known_family;   /* atomic: the header family last confirmed against the record */
  int switch_pending; /* atomic: a record read showed a switch intent */
  int settled;        /* atomic: the record says rollback for a lasting incompatibility */
  char fs_type[24];
  int shares_memory;
  int has_refusal; /* guarded by G.mu, with the fields below */
  char refusal_op[64];
  int refusal_reason;
  char refusal_msg[WG_MSG_MAX];
  struct wg_db *next;
} wg_db;

/* The counters of PRAGMA walguard_status's "stats" (vfs/stats.go). */
typedef struct wg_stats {
  unsigned long long opens, pass_through, joins, retries, recovered, foreign_flips, settled, records_rebuilt,
      sidecars_replaced, pragma_waits;
  unsigned long long refusals[64]; /* by reason; guarded by G.mu */
} wg_stats;

static struct {
  sqlite3_vfs vfs;
  sqlite3_vfs *base;
  int base_protocol;
  pthread_mutex_t mu; /* guards dbs, the refusal fields of each wg_db and stats.refusals */
  wg_db *dbs;
  wg_stats stats;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

#define COUNT(field) __atomic_add_fetch(&G.stats.field, 1, __ATOMIC_RELAXED)

enum { KIND_PASS = 0, KIND_MAIN = 1, KIND_JOURNAL = 2 };

/* The extension decides with the Go policy's defaults (policy.Default()). */
static const wg_policy POLICY;

/* What SQLITE_FCNTL_BUSYHANDLER passes (pager.c, sqlite3PagerSetBusyHandler):
** two pointers, the pager's busy callback and its argument. Calling it runs
** the connection's busy handler once: it sleeps as busy_timeout says and
** answers 0 when the time is up. */
typedef struct wg_busy {
  int (*xBusyHandler)(void *);
  void *pBusyArg;
} wg_busy;

typedef struct wg_file wg_file;
struct wg_file {
  sqlite3_file base; /* pMethods: one of the tables below */
  sqlite3_file *real; /* the base VFS's file, allocated right after this struct */
  int kind;
  /* KIND_JOURNAL */
  wg_file *main;
  int jfamily;
  /* KIND_MAIN */
  const char *name; /* SQLite keeps it valid until xClose */
  wg_db *db;
  int proto;
  int lock;
  int admitted;     /* the protocol join succeeded */
  int family;       /* the family this connection was admitted to */
  int pending_mode; /* from an admitted PRAGMA journal_mode */
  int approved;     /* the header family an admitted pragma may write */
  int approved_at;  /* the header family on disk when it was admitted: approved only from there */
  int switching;    /* this connection's header write recorded a switch intent */
  int switch_from;
  int playback; /* SQLite is rolling back a hot journal through this connection */
  wg_busy *busy;
  wg_side side;
};

static sqlite3_io_methods main_methods[3], journal_methods[3], pass_methods[3];

/* ---- refusals ---- */

typedef struct wg_refusal {
  const char *op;
  int reason;
  char why[WG_MSG_MAX];
  char err[WG_MSG_MAX];
  const wg_record *agreed;
} wg_refusal;

static void record_string(const wg_record *r, char *out, size_t n) {
  char t[48];
  wg_format_time(r->set_at_ns, t, sizeof t);
  int k = snprintf(out, n, "%s (mode %s, protocol %s) gen %llu, set by %s pid %u on %s at %s: %s",
                   wg_family_name(r->family), wg_mode_name(r->mode), wg_protocol_name(r->protocol),
                   (unsigned long long)r->generation, r->program[0] ? r->program : "unknown program",
                   r->setter_pid, r->host[0] ? r->host : "unknown host", t[0] ? t : "unknown time",
                   wg_reason_name(r->reason));
  if (k < 0 || (size_t)k >= n) return;
  if (r->detail[0]) k += snprintf(out + k, n - (size_t)k, " (%s)", r->detail);
  if (r->switch_pending && k >= 0 && (size_t)k < n)
    snprintf(out + k, n - (size_t)k, "; switch from %s to %s pending (slot %d)", wg_family_name(r->switch_from),
             wg_family_name(r->family), r->switch_slot);
}

static const char *class_advice(int c) {
  switch (c) {
    case WG_CLASS_TRANSIENT: return "transient: retrying can help";
    case WG_CLASS_INCOMPATIBLE: return "incompatible: retrying will fail the same way";
    case WG_CLASS_MISMATCH: return "mismatch: retry after the other participants close or agree";
  }
  return "other: not retryable";
}

/* refusal_message formats a refusal as Go's RefusalError.Error does. */
static void refusal_message(const char *db, const wg_refusal *e, char *out, size_t n) {
  char agreed[400] = "";
  if (e->agreed && e->agreed->generation) record_string(e->agreed, agreed, sizeof agreed);
  wg_textf(out, n, "walguard refused %s on %s: %s%s%s%s%s%s%s; %s", e->op, db, wg_reason_name(e->reason),
           e->why[0] ? ": " : "", e->why, e->err[0] ? ": " : "", e->err, agreed[0] ? " (agreed: " : "",
           agreed[0] ? agreed : "", class_advice(wg_reason_class(e->reason)));
  if (agreed[0]) {
    /* close the parenthesis before the advice */
    char *semi = strrchr(out, ';');
    if (semi && (size_t)(semi - out) + 2 < n) {
      memmove(semi + 1, semi, strlen(semi) + 1);
      *semi = ')';
    }
  }
}

/* refuse records, counts and logs a refusal, and says how it ends. */
static int refuse(wg_db *db, const char *dbname, const wg_refusal *e) {
  char msg[WG_MSG_MAX];
  refusal_message(dbname, e, msg, sizeof msg);
  pthread_mutex_lock(&G.mu);
  if (e->reason >= 0 && e->reason < 64) G.stats.refusals[e->reason]++;
  if (db) {
    db->has_refusal = 1;
    snprintf(db->refusal_op, sizeof db->refusal_op, "%s", e->op);
    db->refusal_reason = e->reason;
    snprintf(db->refusal_msg, sizeof db->refusal_msg, "%s", msg);
  }
  pthread_mutex_unlock(&G.mu);
  int retryable = wg_reason_class(e->reason) == WG_CLASS_TRANSIENT || wg_reason_class(e->reason) == WG_CLASS_MISMATCH;
  sqlite3_log(retryable ? SQLITE_BUSY : SQLITE_IOERR, "%s", msg);
  return retryable ? WG_RETRY : WG_FINAL;
}

static int refuse_simple(wg_file *m, const char *op, int reason, const char *why, const char *err,
                         const wg_record *agreed) {
  wg_refusal e = {.op = op, .reason = reason, .agreed = agreed};
  snprintf(e.why, sizeof e.why, "%s", why ? why : "");
  snprintf(e.err, sizeof e.err, "%s", err ? err : "");
  return refuse(m->db, m->name, &e);
}

/* to_sqlite is the one place where a gate's result becomes what SQLite sees. */
static int to_sqlite(int g, int final_code) {
  return g == WG_PASS ? SQLITE_OK : g == WG_RETRY ? SQLITE_BUSY : final_code;
}

static int errno_transient(int e) {
  return e == EIO || e == EINTR || e == EAGAIN || e == ENOMEM || e == ETIMEDOUT || e == EBUSY || e == ENOSPC ||
         e == EDQUOT;
}

/* sidecar_fault reports a failure of the sidecar's own I/O or locks. */
static int sidecar_fault(wg_file *m, const char *op, int rc) {
  if (rc == WG_HELD)
    return refuse_simple(m, op, WG_R_TRANSIENT_FAULT,
                         "the sidecar's agreement lock or I/O did not answer in time; the agreed mode is unchanged",
                         "sidecar agreement lock is busy", NULL);
  char err[WG_MSG_MAX];
  snprintf(err, sizeof err, "%s: %s", m->side.path, strerror(-rc));
  if (errno_transient(-rc))
    return refuse_simple(m, op, WG_R_TRANSIENT_FAULT,
                         "the sidecar's agreement lock or I/O did not answer in time; the agreed mode is unchanged",
                         err, NULL);
  return refuse_simple(m, op, WG_R_SIDECAR_UNAVAILABLE, "the sidecar lock record could not be used", err, NULL);
}

/* ---- transient faults (errclass.Classify on SQLite codes) ---- */

static int code_transient(int rc) {
  switch (rc) {
    case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_IOERR: case SQLITE_IOERR_READ:
    case SQLITE_IOERR_LOCK: case SQLITE_IOERR_RDLOCK: case SQLITE_IOERR_UNLOCK:
    case SQLITE_IOERR_CHECKRESERVEDLOCK: case SQLITE_IOERR_SHMMAP: case SQLITE_IOERR_SHMLOCK:
    case SQLITE_IOERR_SHMSIZE: case SQLITE_IOERR_SHMOPEN: case SQLITE_IOERR_NOMEM:
    case SQLITE_IOERR_ACCESS: case SQLITE_IOERR_FSTAT: case SQLITE_IOERR_SEEK:
    case SQLITE_IOERR_GETTEMPPATH:
      return 1;
  }
  return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* transient reports whether a base VFS result is a transient fault; an
** errno, when the call left one, decides first (a missing file is not). */
static int transient(int rc, int err) {
  if (rc == SQLITE_OK) return 0;
  if (err == ENOENT || err == ENOTDIR || err == EISDIR || err == ENAMETOOLONG || err == ELOOP || err == EACCES ||
      err == EPERM || err == EROFS || err == ENXIO || err == ENODEV)
    return 0;
  if ((rc & 0xff) == SQLITE_CANTOPEN) return errno_transient(err);
  return code_transient(rc);
}

static void retry_sleep(int attempt) {
  unsigned r;
  sqlite3_randomness(sizeof r, &r);
  int64_t ns = wg_retry_delay_ns(attempt, (double)(r >> 8) / (double)(1u << 24));
  struct timespec ts = {ns / 1000000000, ns % 1000000000};
  nanosleep(&ts, NULL);
}

/* ---- the per-database state ---- */

static const struct {
  unsigned magic;
  const char *name;
  int network;
} fs_magics[] = {
  {0x6969, "nfs", 1}, {0x517B, "smbfs", 1}, {0xFF534D42, "cifs", 1}, {0xFE534D42, "smb2", 1},
  {0x65735546, "fuse", 1}, {0x01021997, "9p", 1}, {0x00C36400, "ceph", 1}, {0x5346414F, "afs", 1},
  {0x6B414653, "afs", 1}, {0x01161970, "gfs2", 1}, {0x7461636F, "ocfs2", 1}, {0x0BD00BD0, "lustre", 1},
  {0x73757245, "coda", 1}, {0x47504653, "gpfs", 1}, {0xEF53, "ext4", 0}, {0x58465342, "xfs", 0},
  {0x9123683E, "btrfs", 0}, {0x01021994, "tmpfs", 0}, {0x794C7630, "overlay", 0}, {0x2FC12FC1, "zfs", 0},
  {0xF2F52010, "f2fs", 0}, {0xCA451A4E, "bcachefs", 0}, {0x858458F6, "ramfs", 0},
};

static void detect_fs(wg_db *db) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", db->path);
  char *slash = strrchr(dir, '/');
  if (slash) *(slash == dir ? slash + 1 : slash) = 0;
  else snprintf(dir, sizeof dir, ".");
  struct statfs st;
  db->shares_memory = 1;
  snprintf(db->fs_type, sizeof db->fs_type, "unknown");
  if (statfs(dir, &st) != 0) return;
  unsigned magic = (unsigned)st.f_type;
  for (size_t i = 0; i < sizeof fs_magics / sizeof fs_magics[0]; i++) {
    if (fs_magics[i].magic == magic) {
      snprintf(db->fs_type, sizeof db->fs_type, "%s", fs_magics[i].name);
      db->shares_memory = !fs_magics[i].network;
      return;
    }
  }
  snprintf(db->fs_type, sizeof db->fs_type, "unknown(%#x)", magic);
}

static wg_db *db_state(const char *path) {
  pthread_mutex_lock(&G.mu);
  wg_db *db = G.dbs;
  while (db && strcmp(db->path, path) != 0) db = db->next;
  if (!db) {
    db = calloc(1, sizeof *db);
    if (db) db->path = strdup(path);
    if (db && !db->path) {
      free(db);
      db = NULL;
    }
    if (db) {
      detect_fs(db);
      db->next = G.dbs;
      G.dbs = db;
    }
  }
  pthread_mutex_unlock(&G.mu);
  return db;
}

static int known_family(wg_file *m) { return __atomic_load_n(&m->db->known_family, __ATOMIC_RELAXED); }
static void set_known_family(wg_file *m, int f) { __atomic_store_n(&m->db->known_family, f, __ATOMIC_RELAXED); }

static int default_mode(int f) {
  return f == WG_FAMILY_WAL ? WG_MODE_WAL : f == WG_FAMILY_ROLLBACK ? WG_MODE_DELETE : WG_MODE_UNKNOWN;
}

/* header_family reads the database header's family straight from the file. */
static int header_family(wg_file *m) {
  unsigned char hdr[20];
  if (m->real->pMethods->xRead(m->real, hdr, sizeof hdr, 0) != SQLITE_OK) return WG_FAMILY_UNKNOWN;
  return wg_family_of_header(hdr[18], hdr[19]);
}

/* ---- the agreement protocol (vfs/join.go) ---- */

static int write_record(wg_file *m, wg_record *r) {
  r->version = 0;
  r->generation++;
  r->setter_pid = (uint32_t)getpid();
  r->set_at_ns = wg_now_ns();
  wg_copy_text(r->host, sizeof r->host, wg_host_identity());
  wg_copy_text(r->program, sizeof r->program, wg_program_name());
  int rc = wg_side_write_record(&m->side, r);
  if (rc == 0) set_known_family(m, r->family);
  return rc;
}

/* write_record_or_fault writes the record; a first record on a full disk
** may wait for the next join (vfs/slotentry.go). */
static int write_record_or_fault(wg_file *m, const char *op, wg_record *r, int was) {
  int rc = write_record(m, r);
  if (rc == 0) return WG_PASS;
  if (was == WG_FAMILY_UNKNOWN && (rc == -ENOSPC || rc == -EDQUOT)) {
    sqlite3_log(SQLITE_FULL, "walguard could not write the sidecar record of %s; the agreement holds in the locks", m->name);
    return WG_PASS;
  }
  return sidecar_fault(m, op, rc);
}

static int repair_record(wg_file *m, const char *op, int cause, const char *why, wg_record *r) {
  memset(r, 0, sizeof *r);
  r->family = (uint8_t)header_family(m);
  r->protocol = (uint8_t)m->proto;
  r->reason = WG_R_FIRST_USE;
  r->mode = (uint8_t)default_mode(r->family);
  if (cause < 0) return sidecar_fault(m, op, cause);
  wg_decision d;
  int records;
  wg_decide_record(&POLICY, cause, cause == WG_ERR_NO_RECORD && wg_side_live_elsewhere(&m->side) > 0, &d, &records);
  if (!d.allow) return refuse_simple(m, op, d.reason, d.why, why, NULL);
  r->reason = (uint8_t)records;
  if (records == WG_R_SIDECAR_REPLACED) {
    wg_copy_text(r->detail, sizeof r->detail, "fresh record while participants of the previous sidecar were live");
    COUNT(sidecars_replaced);
    sqlite3_log(SQLITE_WARNING, "walguard found the sidecar of %s replaced while in use", m->name);
  } else if (records == WG_R_REBUILT) {
    char dt[WG_DETAIL_FIELD + 16];
    wg_textf(dt, sizeof dt, "rebuilt: %s", why);
    wg_copy_text(r->detail, sizeof r->detail, dt);
    COUNT(records_rebuilt);
    sqlite3_log(SQLITE_WARNING, "walguard rebuilt the sidecar record of %s: %s", m->name, why);
  }
  return write_record_or_fault(m, op, r, WG_FAMILY_UNKNOWN);
}

typedef int (*agreement_fn)(wg_file *m, const char *op, wg_record *r, void *arg);

/* with_agreement runs fn holding the agreement byte, with the record read
** (created or rebuilt as the policy says). */
static int with_agreement(wg_file *m, const char *op, agreement_fn fn, void *arg) {
  COUNT(joins);
  int rc = wg_side_lock_agreement(&m->side, WG_AGREEMENT_WAIT_NS);
  if (rc) return sidecar_fault(m, op, rc);
  wg_record r;
  char why[300];
  int g = wg_side_read_record(&m->side, &r, why, sizeof why);
  if (g != WG_OK) g = repair_record(m, op, g, why, &r);
  if (g == WG_PASS) g = fn(m, op, &r, arg);
  wg_side_unlock_agreement(&m->side);
  return g;
}

static int foreign_flip(wg_file *m, const char *op, wg_record *r, int header) {
  COUNT(foreign_flips);
  int was = r->family;
  sqlite3_log(SQLITE_WARNING, "walguard noticed a journal mode change of %s made without walguard: recorded %s, header %s",
              m->name, wg_family_name(was), wg_family_name(header));
  r->family = (uint8_t)header;
  r->mode = (uint8_t)default_mode(header);
  r->reason = WG_R_FOREIGN_FLIP;
  char d[WG_DETAIL_FIELD];
  snprintf(d, sizeof d, "header changed from %s to %s without walguard", wg_family_name(was), wg_family_name(header));
  wg_copy_text(r->detail, sizeof r->detail, d);
  int rc = write_record(m, r);
  return rc ? sidecar_fault(m, op, rc) : WG_PASS;
}

/* reconcile_header compares the header's family with the record's. */
static int reconcile_header(wg_file *m, const char *op, wg_record *r, int hf) {
  __atomic_store_n(&m->db->switch_pending, r->switch_pending, __ATOMIC_RELAXED);
  wg_decision d;
  int records;
  wg_decide_header(&POLICY, hf, r->family, r->switch_pending, r->switch_from, &d, &records);
  if (!d.allow) return refuse_simple(m, op, d.reason, d.why, NULL, r);
  if (records == WG_R_FIRST_USE) {
    r->family = (uint8_t)hf;
    r->mode = (uint8_t)default_mode(hf);
    r->reason = WG_R_FIRST_USE;
    r->detail[0] = 0;
    return write_record_or_fault(m, op, r, WG_FAMILY_UNKNOWN);
  }
  if (records < 0) {
    if (hf != WG_FAMILY_UNKNOWN) set_known_family(m, hf);
    return WG_PASS;
  }
  return foreign_flip(m, op, r, hf);
}

static int settle_network_fs(wg_file *m, const char *op, wg_record *r, int header) {
  if (m->db->shares_memory || r->reason == WG_R_NETWORK_FS || r->family == WG_FAMILY_WAL || header == WG_FAMILY_WAL)
    return WG_PASS;
  r->family = WG_FAMILY_ROLLBACK;
  r->mode = WG_MODE_DELETE;
  r->reason = WG_R_NETWORK_FS;
  char d[WG_DETAIL_FIELD];
  snprintf(d, sizeof d, "filesystem %s cannot share memory between processes", m->db->fs_type);
  wg_copy_text(r->detail, sizeof r->detail, d);
  COUNT(settled);
  int rc = write_record(m, r);
  return rc ? sidecar_fault(m, op, rc) : WG_PASS;
}

static int write_slot(wg_file *m) {
  wg_slot e;
  memset(&e, 0, sizeof e);
  e.pid = (uint32_t)getpid();
  e.protocol = (uint8_t)m->proto;
  e.family = (uint8_t)m->family;
  e.mode = (uint8_t)m->pending_mode;
  e.since_ns = wg_now_ns();
  wg_copy_text(e.host, sizeof e.host, wg_host_identity());
  wg_copy_text(e.program, sizeof e.program, wg_program_name());
  int rc = wg_side_write_slot(&m->side, &e);
  if (rc == -ENOSPC || rc == -EDQUOT) return 0; /* a description; the lock still counts */
  return rc;
}

static int admit_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  (void)arg;
  int hf = header_family(m), g;
  if (r->family != WG_FAMILY_UNKNOWN) {
    if ((g = reconcile_header(m, op, r, hf))) return g;
  } else if (hf != WG_FAMILY_UNKNOWN) {
    set_known_family(m, hf);
  }
  if ((g = settle_network_fs(m, op, r, hf))) return g;
  int others[WG_NUM_PROTOCOLS], nothers = 0, foreign[2], nforeign = 0;
  for (int p = 1; p < WG_NUM_PROTOCOLS; p++) {
    if (p == m->proto) continue;
    int held = wg_side_others_hold(&m->side, WG_PROTOCOL_BYTE(p));
    if (held < 0) return sidecar_fault(m, op, held);
    if (held) others[nothers++] = p;
  }
  if (m->db->shares_memory) {
    int pid, fl;
    if (wg_side_probe_db_locks(&m->side, &pid, &fl) == 0) {
      if (pid > 0) foreign[nforeign++] = WG_PROTO_POSIX;
      else if (pid < 0) foreign[nforeign++] = WG_PROTO_OFD;
      if (fl) foreign[nforeign++] = WG_PROTO_FLOCK;
    }
  }
  wg_decision d;
  wg_admit_protocol(&POLICY, m->proto, others, nothers, foreign, nforeign, &d);
  if (!d.allow) return refuse_simple(m, op, d.reason, d.why, NULL, r);
  int rc = wg_side_acquire_slot(&m->side);
  if (rc == -ENOSPC)
    return refuse_simple(m, op, WG_R_SLOTS_FULL, "too many connections are open on this database; retry when one closes",
                         "every participant slot is taken (128)", NULL);
  if (rc < 0) return sidecar_fault(m, op, rc);
  if ((rc = wg_side_hold_protocol(&m->side, m->proto))) return sidecar_fault(m, op, rc);
  if ((rc = write_slot(m))) return sidecar_fault(m, op, rc);
  m->admitted = 1;
  return WG_PASS;
}

/* admit joins the participants with this connection's locking protocol. */
static int admit(wg_file *m, const char *op) { return with_agreement(m, op, admit_fn, NULL); }

/* family_facts gathers what the policy needs to admit family want. */
static int family_facts(wg_file *m, int want, const wg_record *r, int hf, wg_family_request *req, char *host,
                        size_t hostlen) {
  memset(req, 0, sizeof *req);
  req->want = want;
  req->agreed = r->family;
  req->agreed_reason = r->reason;
  req->shares_memory = m->db->shares_memory;
  req->header_says_wal = hf == WG_FAMILY_WAL;
  if (want == WG_FAMILY_WAL && req->header_says_wal) {
    /* Rollback declarations are moot under a WAL header unless a rollback
    ** writer is mid-transaction (RESERVED held) under a header that changed
    ** beneath it: docs/protocol.md, "The family join". */
    int reserved = 0;
    if (m->real->pMethods->xCheckReservedLock(m->real, &reserved) != SQLITE_OK) reserved = 1;
    req->reserved_held = reserved != 0;
  }
  int other = want == WG_FAMILY_WAL ? WG_FAMILY_ROLLBACK : WG_FAMILY_WAL;
  int held = wg_side_others_hold(&m->side, WG_FAMILY_BYTE(other));
  if (held < 0) return held;
  req->others_in_other = held;
  if (want == WG_FAMILY_WAL) {
    int found = wg_side_other_host_live(&m->side, wg_host_identity(), host, hostlen);
    if (found < 0) return found;
    if (found) req->other_host_live = host;
    if (m->db->shares_memory && !POLICY.allow_hard_links) {
      int other = wg_side_wal_under_another_name(&m->side, m->name);
      if (other < 0) return other;
      req->wal_under_another_name = other;
    }
  }
  return 0;
}

/* approved_switch reports whether this file's pragma approved the change of
** the header from family prior to family to (vfs/switch.go approvedSwitch). */
static int approved_switch(const wg_file *m, int prior, int to) { return m->approved == to && m->approved_at == prior; }

static int decide_switch(wg_file *m, const char *op, int to, const wg_record *r, int hf);

/* gate_unseen_leave decides, at a rollback join under a WAL header, a leave
** of WAL that no pragma of this file approved (an attached database changed
** by an unqualified pragma, whose value only the main database's file
** sees): SQLite writes the new header through a rollback journal, so the
** header-write gate would come after the journal's first bytes (invariant
** 4; vfs/join.go gateUnseenLeave). A hot journal's playback is not a
** decision. It costs nothing unless this process last saw the header say
** WAL. The agreement byte is held. */
static int gate_unseen_leave(wg_file *m, const char *op, int want, const wg_record *r) {
  if (want != WG_FAMILY_ROLLBACK || m->playback || approved_switch(m, WG_FAMILY_WAL, WG_FAMILY_ROLLBACK) ||
      known_family(m) != WG_FAMILY_WAL || header_family(m) != WG_FAMILY_WAL)
    return WG_PASS;
  return decide_switch(m, op, WG_FAMILY_ROLLBACK, r, WG_FAMILY_WAL);
}

static int join_family_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  int gate = gate_unseen_leave(m, op, *(int *)arg, r);
  if (gate) return gate;
  int want = *(int *)arg, rc;
  if ((rc = wg_side_release_family(&m->side))) return sidecar_fault(m, op, rc);
  m->family = WG_FAMILY_UNKNOWN;
  int hf = want == WG_FAMILY_WAL ? header_family(m) : WG_FAMILY_UNKNOWN;
  wg_family_request req;
  char host[WG_HOST_FIELD];
  if ((rc = family_facts(m, want, r, hf, &req, host, sizeof host))) return sidecar_fault(m, op, rc);
  wg_decision d;
  wg_admit_family(&POLICY, &req, &d);
  if (!d.allow) return refuse_simple(m, op, d.reason, d.why, NULL, r);
  if ((rc = wg_side_hold_family(&m->side, want))) return sidecar_fault(m, op, rc);
  m->family = want;
  if ((rc = write_slot(m))) return sidecar_fault(m, op, rc);
  return WG_PASS;
}

/* join_family admits this connection to write with family want; the
** admitted case costs one comparison. */
static int join_family(wg_file *m, const char *op, int want) {
  if (m->family == want) return WG_PASS;
  if (!m->admitted) {
    int g = admit(m, op);
    if (g) return g;
  }
  return with_agreement(m, op, join_family_fn, &want);
}

static void release_family(wg_file *m) {
  if (wg_side_release_family(&m->side) == 0) m->family = WG_FAMILY_UNKNOWN;
}

/* ---- journal family switches (vfs/switch.go) ---- */

/* decide_switch decides whether this connection may move the database to
** family to. Returns WG_PASS, or a refusal already recorded. */
static int decide_switch(wg_file *m, const char *op, int to, const wg_record *r, int hf) {
  int held = m->side.family, rc, g = WG_PASS;
  if (held && (rc = wg_side_release_family(&m->side))) return sidecar_fault(m, op, rc);
  int from, says_wal, leaving;
  wg_switch_facts(to, hf, r->family, r->switch_pending, &from, &says_wal, &leaving);
  wg_transition_request req;
  memset(&req, 0, sizeof req);
  req.from = from;
  req.to = to;
  req.header_says_wal = says_wal;
  char host[WG_HOST_FIELD];
  if (leaving != WG_FAMILY_UNKNOWN) {
    rc = wg_side_others_hold(&m->side, WG_FAMILY_BYTE(leaving));
    if (rc < 0) {
      g = sidecar_fault(m, op, rc);
      goto out;
    }
    req.others_in_from = rc;
  }
  if ((rc = family_facts(m, to, r, hf, &req.fam, host, sizeof host))) {
    g = sidecar_fault(m, op, rc);
    goto out;
  }
  wg_decision d;
  wg_transition(&POLICY, &req, &d);
  if (!d.allow) g = refuse_simple(m, op, d.reason, d.why, NULL, r);
out:
  if (held && wg_side_hold_family(&m->side, held) != 0) m->family = WG_FAMILY_UNKNOWN; /* rejoin at the next gate */
  return g;
}

static void mode_for(wg_file *m, int f, uint8_t *mode, uint8_t *reason) {
  if (wg_mode_family(m->pending_mode) == f) {
    *mode = (uint8_t)m->pending_mode;
    *reason = WG_R_PRAGMA;
  } else {
    *mode = (uint8_t)default_mode(f);
    *reason = WG_R_FIRST_USE;
  }
}

/* interrupted_detail names an interrupted switch of r, and how it ended. */
static void interrupted_detail(const wg_record *r, const char *outcome, char *out, size_t n) {
  wg_textf(out, n, "switch to %s by %s pid %u interrupted; %s", wg_family_name(r->family),
           r->program[0] ? r->program : "unknown program", (unsigned)r->setter_pid, outcome);
}

static int header_write_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  int f = *(int *)arg;
  int prior = header_family(m);
  char d[WG_DETAIL_FIELD];
  if (m->playback) {
    /* SQLite restores the header from a hot journal: never a new decision. */
    if (r->family == f && !r->switch_pending) {
      set_known_family(m, f);
      return WG_PASS;
    }
    if (r->switch_pending) {
      char what[WG_DETAIL_FIELD + 64];
      wg_textf(what, sizeof what, "hot journal rolled back to %s", wg_family_name(f));
      interrupted_detail(r, what, d, sizeof d);
    } else {
      snprintf(d, sizeof d, "hot journal rolled back to %s", wg_family_name(f));
    }
    r->family = (uint8_t)f;
    r->mode = (uint8_t)default_mode(f);
    r->reason = WG_R_RECOVERED;
    r->switch_pending = 0;
    r->switch_from = r->switch_slot = 0;
    wg_copy_text(r->detail, sizeof r->detail, d);
    return write_record_or_fault(m, op, r, -1);
  }
  if (m->switching && f == m->switch_from) {
    /* This connection's own switch failed and is rolled back. */
    snprintf(d, sizeof d, "switch to %s failed and was rolled back", wg_family_name(f == 1 ? 2 : 1));
    r->family = (uint8_t)f;
    r->mode = (uint8_t)default_mode(f);
    r->reason = WG_R_RECOVERED;
    r->switch_pending = 0;
    r->switch_from = r->switch_slot = 0;
    wg_copy_text(r->detail, sizeof r->detail, d);
    m->switching = 0;
    return write_record_or_fault(m, op, r, -1);
  }
  if (prior == f || prior == WG_FAMILY_UNKNOWN) {
    /* The family on disk does not change: a stale view, or a new database. */
    if (r->family == f && !r->switch_pending) {
      set_known_family(m, f);
      return WG_PASS;
    }
    int was = r->family;
    r->family = (uint8_t)f;
    r->switch_pending = 0;
    r->switch_from = r->switch_slot = 0;
    r->detail[0] = 0;
    mode_for(m, f, &r->mode, &r->reason);
    return write_record_or_fault(m, op, r, was);
  }
  if (!approved_switch(m, prior, f)) {
    int g = decide_switch(m, op, f, r, prior);
    if (g) return g;
  }
  r->family = (uint8_t)f;
  snprintf(d, sizeof d, "switch from %s to %s", wg_family_name(prior), wg_family_name(f));
  wg_copy_text(r->detail, sizeof r->detail, d);
  mode_for(m, f, &r->mode, &r->reason);
  if (m->side.slot >= 0) {
    r->switch_pending = 1;
    r->switch_from = (uint8_t)prior;
    r->switch_slot = (uint8_t)m->side.slot;
  }
  int g = write_record_or_fault(m, op, r, -1);
  if (g) return g;
  m->switching = r->switch_pending;
  m->switch_from = prior;
  return WG_PASS;
}

/* record_header_write runs before a header write that changes the journal
** family reaches the file: it gates a change this file's pragma did not
** approve, and records the new family with a switch intent. */
static int record_header_write(wg_file *m, int f) { return with_agreement(m, "write header", header_write_fn, &f); }

static int end_switch_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  (void)op;
  (void)arg;
  int hf = header_family(m), rc;
  if (r->switch_pending && r->setter_pid == (uint32_t)getpid() && r->switch_slot == m->side.slot &&
      hf != WG_FAMILY_UNKNOWN) {
    if (hf != r->family) {
      char d[WG_DETAIL_FIELD];
      snprintf(d, sizeof d, "switch to %s rolled back", wg_family_name(r->family));
      r->mode = (uint8_t)default_mode(hf);
      r->reason = WG_R_RECOVERED;
      wg_copy_text(r->detail, sizeof r->detail, d);
    }
    r->family = (uint8_t)hf;
    r->switch_pending = 0;
    r->switch_from = r->switch_slot = 0;
    if ((rc = write_record(m, r))) return WG_FINAL;
  }
  if (hf == WG_FAMILY_WAL && m->family == WG_FAMILY_ROLLBACK) {
    /* Invariant 8: this connection cannot write a rollback journal any
    ** more; its declaration would only keep others out. */
    if (wg_side_release_family(&m->side)) return WG_FINAL;
    m->family = WG_FAMILY_UNKNOWN;
    if (write_slot(m)) return WG_FINAL;
  }
  return WG_PASS;
}

/* end_switch resolves this connection's switch when its transaction has ended. */
static void end_switch(wg_file *m) {
  m->switching = 0;
  m->approved = m->approved_at = WG_FAMILY_UNKNOWN;
  if (with_agreement(m, "end switch", end_switch_fn, NULL))
    sqlite3_log(SQLITE_WARNING, "walguard could not resolve its journal mode switch on %s", m->name);
}

static int observe_header_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  return reconcile_header(m, op, r, *(int *)arg);
}

/* ---- the settle rule (vfs/settle.go, vfs/join.go settleRollback) ---- */

/* lock_incompatible reports whether a lock call's failure is deterministic
** (errclass.Classify: ENOLCK, ENOSYS, EOPNOTSUPP, SQLITE_PROTOCOL,
** SQLITE_AUTH): a filesystem without the locks SQLite needs. */
static int lock_incompatible(int rc, int err) {
  if (err == ENOLCK || err == ENOSYS || err == EOPNOTSUPP || err == ENOTSUP) return 1;
  return (rc & 0xff) == SQLITE_PROTOCOL || (rc & 0xff) == SQLITE_AUTH;
}

/* The settle rule's probes (policy.Default: SettleProbes 3, SettleSpacing
** 10 ms, each delay doubled, capped at one second). */
#define WG_SETTLE_PROBES 3
#define WG_SETTLE_SPACING_NS 10000000LL

/* probe_lock takes and drops SHARED on a fresh descriptor of the database,
** opened through the base VFS; it returns the result and its errno. */
static int probe_lock(wg_file *m, int *err) {
  sqlite3_vfs *base = G.base;
  sqlite3_file *f = sqlite3_malloc(base->szOsFile);
  *err = 0;
  if (!f) return SQLITE_NOMEM;
  memset(f, 0, (size_t)base->szOsFile);
  int out = 0;
  errno = 0;
  int rc = base->xOpen(base, m->name, f, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB, &out);
  if (rc == SQLITE_OK) {
    errno = 0;
    rc = f->pMethods->xLock(f, SQLITE_LOCK_SHARED);
    *err = errno;
    if (rc == SQLITE_OK) rc = f->pMethods->xUnlock(f, SQLITE_LOCK_NONE);
  } else {
    *err = errno;
  }
  if (f->pMethods) f->pMethods->xClose(f);
  sqlite3_free(f);
  return rc;
}

/* lock_fault_lasts probes whether an incompatible lock error lasts, on
** fresh descriptors spaced as the policy says; evidence says how, for the
** record's detail (vfs/settle.go lockFaultLasts). */
static int lock_fault_lasts(wg_file *m, char *evidence, size_t n) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 1; i <= WG_SETTLE_PROBES; i++) {
    int64_t ns = WG_SETTLE_SPACING_NS << (i - 1);
    if (ns > 1000000000LL) ns = 1000000000LL;
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    nanosleep(&ts, NULL);
    int err, rc = probe_lock(m, &err);
    if (rc == SQLITE_OK || !lock_incompatible(rc, err)) {
      wg_textf(evidence, n, "probe %d of %d on a fresh descriptor: %s%s%s", i, WG_SETTLE_PROBES,
               rc == SQLITE_OK ? "it succeeded" : sqlite3_errstr(rc), err && rc != SQLITE_OK ? ": " : "",
               err && rc != SQLITE_OK ? strerror(err) : "");
      return 0;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long ms = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  wg_textf(evidence, n, "again on %d fresh descriptors over %lldms", WG_SETTLE_PROBES, ms);
  return 1;
}

typedef struct settle_arg {
  const char *op, *cause, *evidence;
} settle_arg;

static int settle_rollback_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  settle_arg *a = arg;
  int wal_live = wg_side_others_hold(&m->side, WG_FAMILY_BYTE(WG_FAMILY_WAL));
  if (wal_live < 0) return sidecar_fault(m, op, wal_live);
  wg_settle_request req = {WG_CLASS_INCOMPATIBLE, a->evidence[0] != 0,
                           header_family(m) == WG_FAMILY_WAL || r->family == WG_FAMILY_WAL,
                           wal_live || m->family == WG_FAMILY_WAL};
  wg_decision d;
  wg_settle(&req, &d);
  if (d.allow && r->family == WG_FAMILY_ROLLBACK && r->reason == WG_R_INCOMPATIBLE) {
    __atomic_store_n(&m->db->settled, 1, __ATOMIC_RELAXED);
    return WG_PASS; /* settled already */
  }
  if (!d.allow) {
    sqlite3_log(SQLITE_WARNING, "walguard kept the agreed mode of %s despite an incompatibility at %s (%s): %s",
                m->name, a->op, a->cause, d.why);
    return WG_PASS;
  }
  char detail[WG_DETAIL_FIELD];
  wg_textf(detail, sizeof detail, "%s: %s; %s", a->op, a->cause, a->evidence);
  r->family = WG_FAMILY_ROLLBACK;
  r->mode = WG_MODE_DELETE;
  r->reason = WG_R_INCOMPATIBLE;
  wg_copy_text(r->detail, sizeof r->detail, detail);
  int rc = write_record(m, r);
  if (rc) return sidecar_fault(m, op, rc);
  COUNT(settled);
  __atomic_store_n(&m->db->settled, 1, __ATOMIC_RELAXED);
  sqlite3_log(SQLITE_WARNING, "walguard settled the rollback journal of %s: %s", m->name, detail);
  return WG_PASS;
}

/* lock_fault handles a failure to take SHARED that is not contention
** (vfs/database.go lockFault): an incompatibility that lasts on fresh
** descriptors may settle the rollback family; one that does not is
** refused as transient (SQLITE_BUSY). Otherwise the error is SQLite's. */
static int lock_fault(wg_file *m, int rc, int err) {
  char cause[160];
  wg_textf(cause, sizeof cause, "%s%s%s", sqlite3_errstr(rc), err ? ": " : "", err ? strerror(err) : "");
  if (lock_incompatible(rc, err) && !__atomic_load_n(&m->db->settled, __ATOMIC_RELAXED)) {
    char evidence[160];
    if (!lock_fault_lasts(m, evidence, sizeof evidence)) {
      char why[400];
      wg_textf(why, sizeof why,
               "an incompatibility that did not last (%s) is taken for transient; the agreed mode is unchanged", evidence);
      return to_sqlite(refuse_simple(m, "lock", WG_R_TRANSIENT_FAULT, why, cause, NULL), rc);
    }
    settle_arg a = {"lock", cause, evidence};
    if (with_agreement(m, "lock", settle_rollback_fn, &a) != WG_PASS)
      sqlite3_log(SQLITE_WARNING, "walguard could not settle the rollback journal of %s (%s)", m->name, cause);
    return rc;
  }
  if (!lock_incompatible(rc, err) && code_transient(rc))
    return to_sqlite(refuse_simple(m, "lock", WG_R_TRANSIENT_FAULT,
                                   "a transient fault outlasted the retry budget; the agreed mode is unchanged", cause,
                                   NULL),
                     rc);
  return rc;
}

/* ---- interrupted switches (vfs/switch.go resolveInterrupted) ---- */

/* switcher_live reports whether the connection that recorded r's switch
** intent still holds its participant slot: 1, 0 or -errno. The agreement
** byte is held. */
static int switcher_live(wg_file *m, const wg_record *r) {
  if (r->switch_slot == m->side.slot) return r->setter_pid == (uint32_t)getpid() && m->switching;
  return wg_side_slot_live(&m->side, r->switch_slot, r->setter_pid, r->host);
}

/* resolve_interrupted_fn settles a switch intent whose switcher is gone,
** from a header read under a lock after SQLite rolled back any hot
** journal: the switch completed if the header shows its family, else it
** never reached the file (docs/protocol.md, "Interrupted switches"). */
static int resolve_interrupted_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  int hf = *(int *)arg;
  if (!r->switch_pending) {
    __atomic_store_n(&m->db->switch_pending, 0, __ATOMIC_RELAXED);
    return WG_PASS;
  }
  if (hf != r->family && hf != r->switch_from) return foreign_flip(m, op, r, hf);
  int live = switcher_live(m, r);
  if (live < 0) return sidecar_fault(m, op, live);
  if (live) return WG_PASS;
  char d[WG_DETAIL_FIELD + 64];
  if (hf != r->family) {
    interrupted_detail(r, "never reached the header", d, sizeof d);
    r->mode = (uint8_t)default_mode(hf);
  } else {
    interrupted_detail(r, "completed", d, sizeof d);
  }
  sqlite3_log(SQLITE_NOTICE, "walguard resolved an interrupted switch of %s: %s", m->name, d);
  r->family = (uint8_t)hf;
  r->reason = WG_R_RECOVERED;
  wg_copy_text(r->detail, sizeof r->detail, d);
  r->switch_pending = 0;
  r->switch_from = r->switch_slot = 0;
  int g = write_record_or_fault(m, op, r, -1);
  if (g) return g;
  __atomic_store_n(&m->db->switch_pending, 0, __ATOMIC_RELAXED);
  return WG_PASS;
}

/* ---- the journal_mode gate (vfs/pragma.go) ---- */

/* journal_mode_arg is the family a pragma asks for, and the header's family
** on disk it was decided against. */
typedef struct journal_mode_arg {
  int to, hf;
} journal_mode_arg;

static int journal_mode_fn(wg_file *m, const char *op, wg_record *r, void *arg) {
  journal_mode_arg *a = arg;
  a->hf = header_family(m);
  return decide_switch(m, op, a->to, r, a->hf);
}

/* journal_mode decides a journal_mode change before SQLite has written
** anything; a refusal that waiting can end waits as SQLite's busy handler
** would for a lock, bounded by the connection's busy_timeout. */
static int journal_mode(wg_file *m, int mode) {
  char op[48];
  snprintf(op, sizeof op, "journal_mode=%s", wg_mode_name(mode));
  for (;;) {
    int g = WG_PASS;
    journal_mode_arg a = {wg_mode_family(mode), WG_FAMILY_UNKNOWN};
    if (!m->admitted) g = admit(m, op);
    if (g == WG_PASS) g = with_agreement(m, op, journal_mode_fn, &a);
    if (g == WG_PASS) {
      m->pending_mode = mode;
      /* An approval is for the change of family it decided, from the
      ** header as it was: a pragma that kept the family approves no header
      ** write, and none from a family the header has left. */
      m->approved = m->approved_at = WG_FAMILY_UNKNOWN;
      if (a.to != a.hf) {
        m->approved = a.to;
        m->approved_at = a.hf;
      }
      return WG_PASS;
    }
    if (g != WG_RETRY || !m->busy || !m->busy->xBusyHandler) return g;
    COUNT(pragma_waits);
    if (!m->busy->xBusyHandler(m->busy->pBusyArg)) return g;
  }
}

/* ---- PRAGMA walguard_status (docs/status.md) ---- */

char *wg_status_json(wg_file *m);

/* ---- the main database's methods ---- */

static int inherited(wg_file *m, const char *op) {
  if (!wg_side_forked(&m->side)) return 0;
  sqlite3_log(SQLITE_IOERR,
              "walguard refused %s on %s: the connection was inherited across fork(); open a new connection in the "
              "child; other: not retryable",
              op, m->name);
  return 1;
}

/*
** xClose (sqlite3_close, and a failed open): closes the base file, then the
** sidecar, which withdraws every declaration of this connection (its slot,
** protocol and family bytes) from the sidecar and the database's mirror.
*/
static int wgClose(sqlite3_file *pFile) {
  wg_file *p = (wg_file *)pFile;
  if (p->kind == KIND_MAIN && p->switching && !wg_side_forked(&p->side)) end_switch(p);
  int rc = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
  if (p->kind == KIND_MAIN) wg_side_close(&p->side);
  return rc;
}

/*
** xRead (every page read): forwarded, with transient faults retried. A
** header read (offset 0) compares bytes 18/19 with the family this process
** last confirmed, in memory; a difference is reconciled with the record
** under the agreement byte (another process changed it, with or without
** walguard). Short reads are SQLite's normal end of file, never retried.
*/
static int wgRead(sqlite3_file *pFile, void *buf, int amt, sqlite3_int64 off) {
  wg_file *p = (wg_file *)pFile;
  sqlite3_file *r = p->real;
  int rc = r->pMethods->xRead(r, buf, amt, off);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ && p->kind != KIND_PASS && code_transient(rc)) {
    for (int attempt = 1; attempt < WG_RETRY_ATTEMPTS && rc != SQLITE_OK && code_transient(rc); attempt++) {
      COUNT(retries);
      retry_sleep(attempt);
      rc = r->pMethods->xRead(r, buf, amt, off);
      if (rc == SQLITE_OK) COUNT(recovered);
    }
  }
  if (p->kind == KIND_MAIN) {
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ && off == 0 && p->lock <= SQLITE_LOCK_SHARED &&
        code_transient(rc)) {
      char err[64];
      snprintf(err, sizeof err, "%s", sqlite3_errstr(rc));
      return to_sqlite(refuse_simple(p, "read header", WG_R_TRANSIENT_FAULT,
                                     "a transient fault outlasted the retry budget; the agreed mode is unchanged", err,
                                     NULL),
                       rc);
    }
    if (rc == SQLITE_OK && off == 0 && amt >= 20) {
      const unsigned char *h = buf;
      int f = wg_family_of_header(h[18], h[19]);
      if (f != WG_FAMILY_UNKNOWN && f != known_family(p) && !inherited(p, "read header")) {
        int g = with_agreement(p, "read header", observe_header_fn, &f);
        if (g) return to_sqlite(g, SQLITE_IOERR_READ);
      } else if (f != WG_FAMILY_UNKNOWN && __atomic_load_n(&p->db->switch_pending, __ATOMIC_RELAXED) &&
                 p->lock >= SQLITE_LOCK_SHARED && !p->playback && !p->switching && !inherited(p, "read header")) {
        /* Under a lock, after any hot journal was rolled back: the header
        ** shows how an interrupted switch ended. */
        int g = with_agreement(p, "read header", resolve_interrupted_fn, &f);
        if (g) return to_sqlite(g, SQLITE_IOERR_READ);
      }
    }
  } else if (p->kind == KIND_JOURNAL && rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ && off == 0 &&
             p->jfamily == WG_FAMILY_WAL && p->main->lock <= SQLITE_LOCK_SHARED && code_transient(rc)) {
    return to_sqlite(refuse_simple(p->main, "read -wal header", WG_R_TRANSIENT_FAULT,
                                   "a transient fault outlasted the retry budget; the agreed mode is unchanged",
                                   sqlite3_errstr(rc), NULL),
                     rc);
  }
  return rc;
}

/*
** xWrite. Main database: a write of the header that changes the journal
** family is recorded in the sidecar before it reaches the file (refused, if
** not admitted, before any byte is written). -wal/-journal: the last gate
** before a frame checks, in memory, that the connection was admitted to
** the file's family.
*/
static int wgWrite(sqlite3_file *pFile, const void *buf, int amt, sqlite3_int64 off) {
  wg_file *p = (wg_file *)pFile;
  if (p->kind == KIND_MAIN && off == 0 && amt >= 20) {
    const unsigned char *h = buf;
    int f = wg_family_of_header(h[18], h[19]);
    if (f != WG_FAMILY_UNKNOWN && f != known_family(p)) {
      if (inherited(p, "write header")) return SQLITE_IOERR_WRITE;
      int g = record_header_write(p, f);
      if (g) return to_sqlite(g, SQLITE_IOERR_WRITE);
    }
  } else if (p->kind == KIND_JOURNAL && p->main->family != p->jfamily) {
    if (inherited(p->main, "write")) return SQLITE_IOERR_WRITE;
    int g = join_family(p->main, "write", p->jfamily);
    if (g) return to_sqlite(g, SQLITE_IOERR_WRITE);
  }
  return p->real->pMethods->xWrite(p->real, buf, amt, off);
}

/* xTruncate, xSync, xFileSize: forwarded unchanged (write-side calls are
** never retried: what reached the disk after a failure is unknown). */
static int wgTruncate(sqlite3_file *pFile, sqlite3_int64 size) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xTruncate(p->real, size);
}

static int wgSync(sqlite3_file *pFile, int flags) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xSync(p->real, flags);
}

static int wgFileSize(sqlite3_file *pFile, sqlite3_int64 *pSize) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xFileSize(p->real, pSize);
}

/*
** xLock (every transaction's start and escalation). A connection whose
** join was refused at open retries it here, and gets SQLITE_BUSY while it
** is refused. RESERVED comes before a rollback writer's first journal byte:
** the rollback family is joined here. Taking SHARED precedes any write, so
** its transient faults are retried and then reported as SQLITE_BUSY; an
** incompatible one (ENOLCK, ...) goes to the settle rule (lock_fault).
*/
static int wgLock(sqlite3_file *pFile, int level) {
  wg_file *p = (wg_file *)pFile;
  sqlite3_file *r = p->real;
  if (p->kind != KIND_MAIN) return r->pMethods->xLock(r, level);
  if (inherited(p, "lock")) return SQLITE_IOERR_LOCK;
  int g;
  if (!p->admitted && (g = admit(p, "lock"))) return to_sqlite(g, SQLITE_IOERR_LOCK);
  if (level == SQLITE_LOCK_RESERVED && p->family != WG_FAMILY_ROLLBACK &&
      (g = join_family(p, "begin write", WG_FAMILY_ROLLBACK)))
    return to_sqlite(g, SQLITE_IOERR_LOCK);
  errno = 0;
  int rc = r->pMethods->xLock(r, level);
  if (level == SQLITE_LOCK_SHARED && rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
    int err = errno;
    for (int attempt = 1; attempt < WG_RETRY_ATTEMPTS && rc != SQLITE_OK && code_transient(rc) &&
                          !lock_incompatible(rc, err) && (rc & 0xff) != SQLITE_BUSY;
         attempt++) {
      COUNT(retries);
      retry_sleep(attempt);
      errno = 0;
      rc = r->pMethods->xLock(r, level);
      err = errno;
      if (rc == SQLITE_OK) COUNT(recovered);
    }
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) return lock_fault(p, rc, err);
  }
  if (rc == SQLITE_OK) p->lock = level;
  return rc;
}

/*
** xUnlock (end of a transaction): forwarded. A transaction that switched
** the journal family has ended: its switch intent is resolved.
*/
static int wgUnlock(sqlite3_file *pFile, int level) {
  wg_file *p = (wg_file *)pFile;
  if (p->kind == KIND_MAIN && level <= SQLITE_LOCK_SHARED) {
    p->playback = 0;
    if (p->switching && !wg_side_forked(&p->side)) end_switch(p);
  }
  int rc = p->real->pMethods->xUnlock(p->real, level);
  if (p->kind == KIND_MAIN && (rc == SQLITE_OK || p->lock > level)) p->lock = level;
  return rc;
}

static int wgCheckReservedLock(sqlite3_file *pFile, int *pResOut) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xCheckReservedLock(p->real, pResOut);
}

/*
** xFileControl. SQLITE_FCNTL_PRAGMA: every PRAGMA on this database reaches
** the VFS first. journal_mode is parsed as SQLite parses it (pragma.c: the
** first mode of which the value is a prefix, ASCII case ignored, quotes
** already removed, schema qualification already resolved to this file) and
** decided before SQLite acts; a query (no value) passes. walguard_status
** answers the status JSON. SQLITE_FCNTL_BUSYHANDLER is kept, so refused
** pragmas wait as long as the connection's busy_timeout. Everything else
** is forwarded.
*/
static int wgFileControl(sqlite3_file *pFile, int op, void *pArg) {
  wg_file *p = (wg_file *)pFile;
  if (p->kind == KIND_MAIN && op == SQLITE_FCNTL_PRAGMA) {
    char **a = (char **)pArg;
    const char *name = a[1], *value = a[2];
    if (sqlite3_stricmp(name, "walguard_status") == 0) {
      char *json = wg_status_json(p);
      if (!json) return SQLITE_NOMEM;
      a[0] = json;
      return SQLITE_OK;
    }
    int mode;
    if (sqlite3_stricmp(name, "journal_mode") == 0 && value && wg_parse_journal_mode(value, &mode)) {
      if (inherited(p, "journal_mode")) {
        a[0] = sqlite3_mprintf("walguard refused journal_mode on %s: the connection was inherited across fork()", p->name);
        return SQLITE_ERROR;
      }
      int g = journal_mode(p, mode);
      if (g) {
        char msg[WG_MSG_MAX];
        pthread_mutex_lock(&G.mu);
        snprintf(msg, sizeof msg, "%s", p->db->refusal_msg);
        pthread_mutex_unlock(&G.mu);
        a[0] = sqlite3_mprintf("%s", msg);
        return to_sqlite(g, SQLITE_ERROR);
      }
    }
  }
  if (p->kind == KIND_MAIN && op == SQLITE_FCNTL_BUSYHANDLER) p->busy = (wg_busy *)pArg;
  return p->real->pMethods->xFileControl(p->real, op, pArg);
}

static int wgSectorSize(sqlite3_file *pFile) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xSectorSize(p->real);
}

static int wgDeviceCharacteristics(sqlite3_file *pFile) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xDeviceCharacteristics(p->real);
}

/* xShmMap, xShmLock, xShmBarrier, xShmUnmap (the WAL-index): forwarded to
** the base file's shared memory; the WAL gate is the -wal open. */
static int wgShmMap(sqlite3_file *pFile, int iPg, int pgsz, int bExtend, void volatile **pp) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xShmMap(p->real, iPg, pgsz, bExtend, pp);
}

static int wgShmLock(sqlite3_file *pFile, int offset, int n, int flags) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

static void wgShmBarrier(sqlite3_file *pFile) {
  wg_file *p = (wg_file *)pFile;
  p->real->pMethods->xShmBarrier(p->real);
}

static int wgShmUnmap(sqlite3_file *pFile, int deleteFlag) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xShmUnmap(p->real, deleteFlag);
}

/* xFetch, xUnfetch (memory-mapped I/O): forwarded. */
static int wgFetch(sqlite3_file *pFile, sqlite3_int64 off, int amt, void **pp) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xFetch(p->real, off, amt, pp);
}

static int wgUnfetch(sqlite3_file *pFile, sqlite3_int64 off, void *ptr) {
  wg_file *p = (wg_file *)pFile;
  return p->real->pMethods->xUnfetch(p->real, off, ptr);
}

/* The io_methods tables, filled in one place: one per kind and per
** iVersion of the base file (a file advertises only what its base has). */
static void fill_methods(void) {
  sqlite3_io_methods m = {
    3, wgClose, wgRead, wgWrite, wgTruncate, wgSync, wgFileSize, wgLock, wgUnlock, wgCheckReservedLock,
    wgFileControl, wgSectorSize, wgDeviceCharacteristics, wgShmMap, wgShmLock, wgShmBarrier, wgShmUnmap,
    wgFetch, wgUnfetch,
  };
  for (int v = 1; v <= 3; v++) {
    m.iVersion = v;
    main_methods[v - 1] = journal_methods[v - 1] = pass_methods[v - 1] = m;
  }
}

static const sqlite3_io_methods *methods_for(int kind, const sqlite3_file *real) {
  int v = real->pMethods->iVersion;
  if (v < 1) v = 1;
  if (v > 3) v = 3;
  return kind == KIND_MAIN ? &main_methods[v - 1] : kind == KIND_JOURNAL ? &journal_methods[v - 1] : &pass_methods[v - 1];
}

static int is_main_file(const sqlite3_file *f) {
  return f && f->pMethods >= &main_methods[0] && f->pMethods <= &main_methods[2];
}

/* ---- the VFS ---- */

/* open_base opens a file on the base VFS, retrying transient faults. */
static int open_base(wg_file *p, sqlite3_filename zName, int flags, int *pOut) {
  p->real->pMethods = NULL;
  errno = 0;
  int rc = G.base->xOpen(G.base, zName, p->real, flags, pOut);
  for (int attempt = 1; attempt < WG_RETRY_ATTEMPTS && transient(rc, errno) && (rc & 0xff) != SQLITE_BUSY; attempt++) {
    COUNT(retries);
    retry_sleep(attempt);
    p->real->pMethods = NULL;
    errno = 0;
    rc = G.base->xOpen(G.base, zName, p->real, flags, pOut);
    if (rc == SQLITE_OK) COUNT(recovered);
  }
  return rc;
}

static int open_main(wg_file *p, sqlite3_filename zName, int flags, int *pOutFlags) {
  int out = 0;
  int rc = open_base(p, zName, flags, &out);
  int err = errno;
  if (pOutFlags) *pOutFlags = out;
  p->name = zName;
  p->db = db_state(zName);
  if (!p->db) {
    if (rc == SQLITE_OK) p->real->pMethods->xClose(p->real);
    return SQLITE_NOMEM;
  }
  if (rc != SQLITE_OK) {
    if (transient(rc, err) && (rc & 0xff) != SQLITE_BUSY) {
      char e[128];
      snprintf(e, sizeof e, "%s%s%s", sqlite3_errstr(rc), err ? ": " : "", err ? strerror(err) : "");
      return to_sqlite(refuse_simple(p, "open", WG_R_TRANSIENT_FAULT,
                                     "a transient fault outlasted the retry budget; the agreed mode is unchanged", e,
                                     NULL),
                       rc);
    }
    return rc;
  }
  /* Read-only and immutable connections cannot write, so they cannot mix
  ** journals; they pass through (docs/design.md, "pass-through"). */
  if ((out & SQLITE_OPEN_READONLY) || sqlite3_uri_boolean(zName, "immutable", 0)) {
    p->kind = KIND_PASS;
    p->base.pMethods = methods_for(KIND_PASS, p->real);
    COUNT(pass_through);
    return SQLITE_OK;
  }
  p->kind = KIND_MAIN;
  p->proto = sqlite3_uri_boolean(zName, "nolock", 0) ? WG_PROTO_NOLOCK : G.base_protocol;
  p->side.fd = p->side.mirror = p->side.slot = -1;
  struct stat st;
  unsigned perm = 0644;
  if (stat(zName, &st) == 0) {
    perm = st.st_mode & 0777;
    wg_decision d;
    wg_decide_names(&POLICY, (unsigned long)st.st_nlink, &d);
    if (!d.allow) {
      char why[600];
      snprintf(why, sizeof why, "%s; remove the other links (find them with: find / -samefile %s), open this one read-only (mode=ro), or set policy.AllowHardLinks",
               d.why, zName);
      refuse_simple(p, "open", WG_R_HARD_LINKS, why, NULL, NULL);
      p->real->pMethods->xClose(p->real);
      return SQLITE_CANTOPEN;
    }
  }
  /* A transient fault opening the sidecar is retried within the budget,
  ** then refused as transient (BUSY); only a lasting failure (EACCES, a
  ** symlink, a FIFO, ...) makes the sidecar unavailable. */
  char why[300];
  int src = wg_side_open(&p->side, zName, perm, why, sizeof why);
  for (int attempt = 1; src && errno_transient(-src) && attempt < WG_RETRY_ATTEMPTS; attempt++) {
    COUNT(retries);
    retry_sleep(attempt);
    src = wg_side_open(&p->side, zName, perm, why, sizeof why);
    if (!src) COUNT(recovered);
  }
  if (src) {
    int transient_fault = errno_transient(-src);
    refuse_simple(p, "open", transient_fault ? WG_R_TRANSIENT_FAULT : WG_R_SIDECAR_UNAVAILABLE,
                  transient_fault ? "a transient fault outlasted the retry budget; the agreed mode is unchanged"
                                  : "the sidecar lock record cannot be opened, so this connection cannot join",
                  why, NULL);
    p->real->pMethods->xClose(p->real);
    return transient_fault ? SQLITE_BUSY : SQLITE_CANTOPEN;
  }
  p->base.pMethods = methods_for(KIND_MAIN, p->real);
  COUNT(opens);
  /* A refused join leaves the connection open but not admitted: its first
  ** lock retries the join and returns SQLITE_BUSY while refused. */
  int g = admit(p, "open");
  if (g == WG_FINAL) {
    wgClose(&p->base);
    p->base.pMethods = NULL;
    return SQLITE_CANTOPEN;
  }
  return SQLITE_OK;
}

static int open_journal(wg_file *p, sqlite3_filename zName, int flags, int *pOutFlags, int family) {
  sqlite3_file *mf = sqlite3_database_file_object(zName);
  if (!is_main_file(mf)) {
    /* The main database passed through: so does its journal. */
    COUNT(pass_through);
    int rc = open_base(p, zName, flags, pOutFlags);
    if (rc == SQLITE_OK) {
      p->kind = KIND_PASS;
      p->base.pMethods = methods_for(KIND_PASS, p->real);
    }
    return rc;
  }
  wg_file *m = (wg_file *)mf;
  const char *op = family == WG_FAMILY_WAL ? "open -wal" : "open -journal";
  int readonly = (flags & SQLITE_OPEN_READONLY) != 0, joined = m->family == family;
  if (inherited(m, op)) return SQLITE_CANTOPEN;
  /* SQLite opens a hot journal read-write without CREATE to roll it back;
  ** every journal it writes itself it opens with CREATE. */
  if (family == WG_FAMILY_ROLLBACK && !readonly && !(flags & SQLITE_OPEN_CREATE)) m->playback = 1;
  if (!readonly) {
    int g = join_family(m, op, family);
    if (g) return to_sqlite(g, SQLITE_CANTOPEN);
  }
  int rc = open_base(p, zName, flags, pOutFlags);
  int err = errno;
  if (rc != SQLITE_OK) {
    if (!readonly && !joined) release_family(m); /* keep nobody out for a file never opened */
    if (transient(rc, err) && (rc & 0xff) != SQLITE_BUSY)
      return to_sqlite(refuse_simple(m, op, WG_R_TRANSIENT_FAULT,
                                     "a transient fault outlasted the retry budget; the agreed mode is unchanged",
                                     sqlite3_errstr(rc), NULL),
                       rc);
    return rc;
  }
  p->kind = KIND_JOURNAL;
  p->main = m;
  p->jfamily = family;
  p->base.pMethods = methods_for(KIND_JOURNAL, p->real);
  return SQLITE_OK;
}

/*
** xOpen: tells the main database, its WAL and its rollback journal apart by
** flags. The main database joins the participants (protocol join); a -wal
** or -journal joins its family before SQLite can write a byte to it.
** Temporary, in-memory and other files pass through untouched.
*/
static int wgOpen(sqlite3_vfs *pVfs, sqlite3_filename zName, sqlite3_file *pFile, int flags, int *pOutFlags) {
  (void)pVfs;
  wg_file *p = (wg_file *)pFile;
  memset(p, 0, offsetof(wg_file, side));
  p->side.fd = p->side.mirror = p->side.slot = -1;
  p->real = (sqlite3_file *)((char *)p + ((sizeof(wg_file) + 7) & ~(size_t)7));
  int rc;
  if (!zName || (flags & SQLITE_OPEN_DELETEONCLOSE) || (flags & SQLITE_OPEN_MEMORY)) {
    rc = G.base->xOpen(G.base, zName, p->real, flags, pOutFlags);
    if (rc == SQLITE_OK) {
      p->kind = KIND_PASS;
      p->base.pMethods = methods_for(KIND_PASS, p->real);
      COUNT(pass_through);
    }
    return rc;
  }
  if (flags & SQLITE_OPEN_MAIN_DB) return open_main(p, zName, flags, pOutFlags);
  if (flags & SQLITE_OPEN_WAL) return open_journal(p, zName, flags, pOutFlags, WG_FAMILY_WAL);
  if (flags & SQLITE_OPEN_MAIN_JOURNAL) return open_journal(p, zName, flags, pOutFlags, WG_FAMILY_ROLLBACK);
  rc = G.base->xOpen(G.base, zName, p->real, flags, pOutFlags);
  if (rc == SQLITE_OK) {
    p->kind = KIND_PASS;
    p->base.pMethods = methods_for(KIND_PASS, p->real);
    COUNT(pass_through);
  }
  return rc;
}

/* xDelete: forwarded; deleting is part of a transaction's write path, so
** its errors are never retried or disguised. */
static int wgDelete(sqlite3_vfs *pVfs, const char *zName, int syncDir) {
  (void)pVfs;
  return G.base->xDelete(G.base, zName, syncDir);
}

/* xAccess: forwarded, transient faults retried. */
static int wgAccess(sqlite3_vfs *pVfs, const char *zName, int flags, int *pResOut) {
  (void)pVfs;
  int rc = G.base->xAccess(G.base, zName, flags, pResOut);
  for (int attempt = 1; attempt < WG_RETRY_ATTEMPTS && code_transient(rc) && (rc & 0xff) != SQLITE_BUSY; attempt++) {
    COUNT(retries);
    retry_sleep(attempt);
    rc = G.base->xAccess(G.base, zName, flags, pResOut);
    if (rc == SQLITE_OK) COUNT(recovered);
  }
  return rc;
}

/* The rest of the VFS is the base VFS's. */
static int wgFullPathname(sqlite3_vfs *v, const char *z, int n, char *out) {
  (void)v;
  return G.base->xFullPathname(G.base, z, n, out);
}
static void *wgDlOpen(sqlite3_vfs *v, const char *z) {
  (void)v;
  return G.base->xDlOpen(G.base, z);
}
static void wgDlError(sqlite3_vfs *v, int n, char *z) {
  (void)v;
  G.base->xDlError(G.base, n, z);
}
static void (*wgDlSym(sqlite3_vfs *v, void *h, const char *z))(void) {
  (void)v;
  return G.base->xDlSym(G.base, h, z);
}
static void wgDlClose(sqlite3_vfs *v, void *h) {
  (void)v;
  G.base->xDlClose(G.base, h);
}
static int wgRandomness(sqlite3_vfs *v, int n, char *z) {
  (void)v;
  return G.base->xRandomness(G.base, n, z);
}
static int wgSleep(sqlite3_vfs *v, int us) {
  (void)v;
  return G.base->xSleep(G.base, us);
}
static int wgCurrentTime(sqlite3_vfs *v, double *t) {
  (void)v;
  return G.base->xCurrentTime(G.base, t);
}
static int wgGetLastError(sqlite3_vfs *v, int n, char *z) {
  (void)v;
  return G.base->xGetLastError ? G.base->xGetLastError(G.base, n, z) : 0;
}
static int wgCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *t) {
  (void)v;
  return G.base->xCurrentTimeInt64(G.base, t);
}
static int wgSetSystemCall(sqlite3_vfs *v, const char *z, sqlite3_syscall_ptr f) {
  (void)v;
  return G.base->xSetSystemCall(G.base, z, f);
}
static sqlite3_syscall_ptr wgGetSystemCall(sqlite3_vfs *v, const char *z) {
  (void)v;
  return G.base->xGetSystemCall(G.base, z);
}
static const char *wgNextSystemCall(sqlite3_vfs *v, const char *z) {
  (void)v;
  return G.base->xNextSystemCall(G.base, z);
}

/* base_protocol names the locking protocol of the base VFS (os_unix.c's
** variants): "unix" and "unix-excl" lock with POSIX fcntl locks. */
static int base_protocol(const sqlite3_vfs *base) {
  const char *n = base->zName;
  if (strcmp(n, "unix-dotfile") == 0) return WG_PROTO_DOTLK;
  if (strcmp(n, "unix-flock") == 0) return WG_PROTO_FLOCK;
  if (strcmp(n, "unix-none") == 0) return WG_PROTO_NOLOCK;
  return WG_PROTO_POSIX;
}

static int g_registered;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;

/* register_vfs fills the VFS in one place and registers it once. */
static int register_vfs(int make_default) {
  int rc = SQLITE_OK;
  pthread_mutex_lock(&reg_mu);
  if (!g_registered) {
    sqlite3_vfs *base = sqlite3_vfs_find(NULL);
    if (!base || base->iVersion < 3) {
      pthread_mutex_unlock(&reg_mu);
      return SQLITE_ERROR;
    }
#ifdef WG_TEST_FAULTS
    /* Tests only (ext/test/wg_faults.c): faults under the guard. */
    extern sqlite3_vfs *wg_fault_vfs(sqlite3_vfs *);
    base = wg_fault_vfs(base);
#endif
    G.base = base;
    G.base_protocol = base_protocol(base);
    fill_methods();
    wg_fork_init();
    sqlite3_vfs v = {
      3, (int)(((sizeof(wg_file) + 7) & ~(size_t)7) + (size_t)base->szOsFile), base->mxPathname, NULL, WG_VFS_NAME,
      NULL, wgOpen, wgDelete, wgAccess, wgFullPathname, wgDlOpen, wgDlError, wgDlSym, wgDlClose, wgRandomness,
      wgSleep, wgCurrentTime, wgGetLastError, wgCurrentTimeInt64, wgSetSystemCall, wgGetSystemCall,
      wgNextSystemCall,
    };
    G.vfs = v;
    rc = sqlite3_vfs_register(&G.vfs, make_default);
    if (rc == SQLITE_OK) g_registered = 1;
  } else if (make_default) {
    rc = sqlite3_vfs_register(&G.vfs, 1);
  }
  pthread_mutex_unlock(&reg_mu);
  return rc;
}

/* init_entry: what both entry points do once SQLite's API is set. The
** library stays loaded for the life of the process
** (SQLITE_OK_LOAD_PERMANENTLY): the VFS outlives the connection that
** loaded it. */
static int init_entry(int make_default, char **pzErrMsg) {
  int rc = register_vfs(make_default);
  if (rc != SQLITE_OK) {
    if (pzErrMsg)
      *pzErrMsg = sqlite3_mprintf("walguard: cannot register the VFS %s the default VFS",
                                  make_default ? "as" : "over");
    return rc;
  }
  return SQLITE_OK_LOAD_PERMANENTLY;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
/*
** sqlite3_walguard_init: the entry point SQLite finds for libwalguard.so
** (.load ./libwalguard, conn.load_extension("./libwalguard")). Registers
** the VFS "walguard" over the default VFS; open databases with
** file:app.db?vfs=walguard. The library stays loaded for the life of the
** process (SQLITE_OK_LOAD_PERMANENTLY): the VFS outlives the connection
** that loaded it.
*/
int sqlite3_walguard_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  (void)db;
  SQLITE_EXTENSION_INIT2(pApi);
  return init_entry(0, pzErrMsg);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
/*
** sqlite3_walguarddefault_init: registers "walguard" and makes it the
** process's default VFS, for clients that cannot name a VFS (load with
** entry point "sqlite3_walguarddefault_init"). Connections opened before
** keep their VFS.
*/
int sqlite3_walguarddefault_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  (void)db;
  SQLITE_EXTENSION_INIT2(pApi);
  return init_entry(1, pzErrMsg);
}

/* ---- PRAGMA walguard_status (docs/status.md) ---- */

static void json_str(sqlite3_str *s, const char *v) {
  size_t cap = strlen(v) * 6 + 3;
  char *tmp = sqlite3_malloc64(cap);
  if (!tmp) return;
  wg_buf b = {tmp, cap, 0};
  wg_buf_json_string(&b, v);
  sqlite3_str_appendall(s, tmp);
  sqlite3_free(tmp);
}

static void json_record(sqlite3_str *s, const wg_record *r) {
  char tmp[2048];
  wg_buf b = {tmp, sizeof tmp, 0};
  wg_buf_record_json(&b, r);
  sqlite3_str_appendall(s, tmp);
}

static void json_slot(sqlite3_str *s, const wg_slot *e) {
  char tmp[1024];
  wg_buf b = {tmp, sizeof tmp, 0};
  wg_buf_slot_json(&b, e);
  sqlite3_str_appendall(s, tmp);
}

/* status_sidecar writes the sidecar object (sidecar.ReadStatus): a fresh,
** lock-free read of the sidecar, so this connection's own slot shows too;
** the mirror bytes are tested on this connection's own database descriptor
** (opening and closing another would drop SQLite's POSIX locks). */
/* What the status's sidecar read says of walguard's own participants, for
** "without_walguard": the pids of live slots on this host, and whether a
** participant locks with OFD. */
typedef struct status_live {
  uint32_t pids[WG_MAX_SLOTS];
  int npids, ofd;
} status_live;

static void status_sidecar(wg_file *m, sqlite3_str *s, status_live *live) {
  const char *path = m->side.path;
  sqlite3_str_appendall(s, "{\"schema\":1,\"path\":");
  json_str(s, path);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    sqlite3_str_appendf(s, ",\"exists\":%s", errno == ENOENT ? "false" : "true");
    if (errno != ENOENT) {
      sqlite3_str_appendall(s, ",\"error\":");
      char e[WG_MSG_MAX];
      snprintf(e, sizeof e, "open %s: %s", path, strerror(errno));
      json_str(s, e);
    }
    sqlite3_str_appendall(s, ",\"agreement_held\":false,\"participants\":[],\"replaced_while_in_use\":false,"
                             "\"unlisted_slots\":[],\"protocols\":[],\"families\":[]}");
    return;
  }
  sqlite3_str_appendall(s, ",\"exists\":true");
  uint8_t buf[WG_RECORD_SIZE];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  wg_record r;
  char why[300];
  int rc = wg_decode_record(buf, n < 0 ? 0 : (size_t)n, &r, why, sizeof why);
  if (rc == WG_OK) {
    sqlite3_str_appendall(s, ",\"record\":");
    json_record(s, &r);
  } else {
    sqlite3_str_appendall(s, ",\"record_error\":");
    json_str(s, why);
  }
  int mirror = m->side.mirror;
  int agreement = wg_test_lock_fd(fd, WG_AGREEMENT_BYTE) > 0 ||
                  (mirror >= 0 && wg_test_lock_fd(mirror, WG_MIRROR_BYTE(WG_AGREEMENT_BYTE)) > 0);
  sqlite3_str_appendf(s, ",\"agreement_held\":%s,\"participants\":[", agreement ? "true" : "false");
  static __thread uint8_t table[WG_SLOT_SIZE * WG_MAX_SLOTS];
  ssize_t tn = pread(fd, table, sizeof table, WG_SLOT_TABLE_OFFSET);
  int first = 1, unlisted[WG_MAX_SLOTS], nunlisted = 0, replaced = 0;
  for (int i = 0; i < WG_MAX_SLOTS; i++) {
    int held = wg_test_lock_fd(fd, WG_SLOT_BYTE(i)) > 0;
    if (!held) {
      if (mirror >= 0 && wg_test_lock_fd(mirror, WG_MIRROR_BYTE(WG_SLOT_BYTE(i))) > 0) {
        unlisted[nunlisted++] = i;
        replaced = 1;
      }
      continue;
    }
    sqlite3_str_appendf(s, "%s{\"slot\":%d", first ? "" : ",", i);
    first = 0;
    wg_slot e;
    size_t lo = (size_t)i * WG_SLOT_SIZE;
    int src = (tn > 0 && lo + WG_SLOT_SIZE <= (size_t)tn) ? wg_decode_slot(table + lo, WG_SLOT_SIZE, &e, why, sizeof why)
                                                           : WG_ERR_NO_RECORD;
    if (src == WG_OK) {
      sqlite3_str_appendall(s, ",\"entry\":");
      json_slot(s, &e);
      if (e.host[0] == 0 || strcmp(e.host, wg_host_identity()) == 0) live->pids[live->npids++] = e.pid;
    } else {
      if (src == WG_ERR_NO_RECORD) snprintf(why, sizeof why, "slot: nothing written yet");
      sqlite3_str_appendall(s, ",\"error\":");
      json_str(s, why);
    }
    sqlite3_str_appendchar(s, 1, '}');
  }
  sqlite3_str_appendall(s, "]");
  /* protocols and families held on the sidecar, or only on the mirror */
  char protos[256] = "", fams[64] = "";
  for (int p = 0; p < WG_NUM_PROTOCOLS; p++) {
    int on_side = wg_test_lock_fd(fd, WG_PROTOCOL_BYTE(p)) > 0;
    int on_mirror = mirror >= 0 && wg_test_lock_fd(mirror, WG_MIRROR_BYTE(WG_PROTOCOL_BYTE(p))) > 0;
    if (!on_side && on_mirror) replaced = 1;
    if ((on_side || on_mirror) && p == WG_PROTO_OFD) live->ofd = 1;
    if (on_side || on_mirror) {
      size_t l = strlen(protos);
      snprintf(protos + l, sizeof protos - l, "%s\"%s\"", l ? "," : "", wg_protocol_name(p));
    }
  }
  for (int f = 1; f <= 2; f++) {
    int on_side = wg_test_lock_fd(fd, WG_FAMILY_BYTE(f)) > 0;
    int on_mirror = mirror >= 0 && wg_test_lock_fd(mirror, WG_MIRROR_BYTE(WG_FAMILY_BYTE(f))) > 0;
    if (!on_side && on_mirror) replaced = 1;
    if (on_side || on_mirror) {
      size_t l = strlen(fams);
      snprintf(fams + l, sizeof fams - l, "%s\"%s\"", l ? "," : "", wg_family_name(f));
    }
  }
  close(fd);
  sqlite3_str_appendf(s, ",\"replaced_while_in_use\":%s,\"unlisted_slots\":[", replaced ? "true" : "false");
  for (int i = 0; i < nunlisted; i++) sqlite3_str_appendf(s, "%s%d", i ? "," : "", unlisted[i]);
  sqlite3_str_appendf(s, "],\"protocols\":[%s],\"families\":[%s]}", protos, fams);
}

/* status_foreign appends "without_walguard": the holders of SQLite's own
** locks without a walguard slot (wg_foreign.c); [] when /proc/locks cannot
** be read, as Go's withoutWalguard. */
static void status_foreign(wg_file *m, sqlite3_str *s, const status_live *live) {
  wg_foreign *list = sqlite3_malloc(32 * (int)sizeof *list);
  int n = list ? wg_foreign_list(m->name, live->pids, live->npids, live->ofd, list, 32) : 0;
  sqlite3_str_appendall(s, ",\"without_walguard\":[");
  for (int i = 0; i < n; i++) {
    sqlite3_str_appendf(s, "%s{\"pid\":%d,\"command\":", i ? "," : "", list[i].pid);
    json_str(s, list[i].command);
    sqlite3_str_appendall(s, ",\"protocol\":");
    json_str(s, list[i].protocol);
    sqlite3_str_appendall(s, ",\"locks\":[");
    for (int k = 0; k < list[i].nlocks; k++) {
      if (k) sqlite3_str_appendchar(s, 1, ',');
      json_str(s, list[i].locks[k]);
    }
    sqlite3_str_appendall(s, "]}");
  }
  sqlite3_str_appendchar(s, 1, ']');
  sqlite3_free(list);
}

/* wg_status_json answers PRAGMA walguard_status: the same object as the Go
** shim's (vfs.Status). */
char *wg_status_json(wg_file *m) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  status_live live;
  memset(&live, 0, sizeof live);
  sqlite3_str_appendall(s, "{\"db\":");
  json_str(s, m->name);
  sqlite3_str_appendall(s, ",\"sidecar\":");
  status_sidecar(m, s, &live);
  status_foreign(m, s, &live);
  sqlite3_str_appendall(s, ",\"filesystem\":");
  json_str(s, m->db->fs_type);
  pthread_mutex_lock(&G.mu);
  if (m->db->has_refusal) {
    int c = wg_reason_class(m->db->refusal_reason);
    sqlite3_str_appendall(s, ",\"last_refusal\":{\"op\":");
    json_str(s, m->db->refusal_op);
    sqlite3_str_appendall(s, ",\"reason\":");
    json_str(s, wg_reason_name(m->db->refusal_reason));
    sqlite3_str_appendf(s, ",\"class\":\"%s\",\"retryable\":%s,\"message\":", wg_class_name(c),
                        (c == WG_CLASS_TRANSIENT || c == WG_CLASS_MISMATCH) ? "true" : "false");
    json_str(s, m->db->refusal_msg);
    sqlite3_str_appendchar(s, 1, '}');
  }
  wg_stats *st = &G.stats;
  sqlite3_str_appendf(s, ",\"stats\":{\"opens\":%llu,\"pass_through\":%llu,\"joins\":%llu,\"retries\":%llu,"
                         "\"recovered\":%llu,\"refusals\":{",
                      __atomic_load_n(&st->opens, __ATOMIC_RELAXED), __atomic_load_n(&st->pass_through, __ATOMIC_RELAXED),
                      __atomic_load_n(&st->joins, __ATOMIC_RELAXED), __atomic_load_n(&st->retries, __ATOMIC_RELAXED),
                      __atomic_load_n(&st->recovered, __ATOMIC_RELAXED));
  int first = 1;
  for (int r = 0; r < 64; r++) {
    if (!st->refusals[r]) continue;
    sqlite3_str_appendall(s, first ? "" : ",");
    first = 0;
    json_str(s, wg_reason_name(r));
    sqlite3_str_appendf(s, ":%llu", st->refusals[r]);
  }
  pthread_mutex_unlock(&G.mu);
  sqlite3_str_appendf(s, "},\"foreign_flips\":%llu,\"settled\":%llu,\"records_rebuilt\":%llu,\"sidecars_replaced\":%llu,"
                         "\"pragma_waits\":%llu}}",
                      __atomic_load_n(&st->foreign_flips, __ATOMIC_RELAXED), __atomic_load_n(&st->settled, __ATOMIC_RELAXED),
                      __atomic_load_n(&st->records_rebuilt, __ATOMIC_RELAXED),
                      __atomic_load_n(&st->sidecars_replaced, __ATOMIC_RELAXED),
                      __atomic_load_n(&st->pragma_waits, __ATOMIC_RELAXED));
  return sqlite3_str_finish(s);
}
