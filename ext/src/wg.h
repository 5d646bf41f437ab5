/*
** wg.h: libwalguard's internal declarations, shared by its C files.
**
** The sidecar's byte layout, the lock bytes and the decisions here are
** those of the Go shim (sidecar/layout.go, record.go, slot.go, mirror.go,
** policy/); docs/protocol.md is the language-neutral description. A Go
** process and a C process share one sidecar, so every constant below is
** part of the protocol: never change one here alone.
**
** wg_format.c and wg_policy.c are pure (no I/O, no SQLite), so the unit
** test program links them without SQLite.
*/
#ifndef WG_H
#define WG_H

#include <stddef.h>
#include <stdint.h>

/* The sidecar file: record at 0, slot table at 512 (layout.go). */
#define WG_SIDECAR_SUFFIX "-walguard"
#define WG_RECORD_SIZE 256
#define WG_SLOT_TABLE_OFFSET 512
#define WG_SLOT_SIZE 128
#define WG_MAX_SLOTS 128
#define WG_DATA_SIZE (WG_SLOT_TABLE_OFFSET + WG_SLOT_SIZE * WG_MAX_SLOTS)
#define WG_RECORD_VERSION 2
#define WG_SLOT_VERSION 1

/* Lock bytes on the sidecar, past the data (layout.go). */
#define WG_LOCK_BASE 65536LL
#define WG_AGREEMENT_BYTE (WG_LOCK_BASE + 0)
#define WG_PROTOCOL_BYTE(p) (WG_LOCK_BASE + 16 + (long long)(p))
#define WG_FAMILY_BYTE(f) (WG_LOCK_BASE + 32 + (long long)(f))
#define WG_SLOT_BYTE(i) (WG_LOCK_BASE + 64 + (long long)(i))
/* Each mirrored on the database at 2^48 + (offset - LockBase) (mirror.go). */
#define WG_MIRROR_BASE (1LL << 48)
#define WG_MIRROR_BYTE(off) (WG_MIRROR_BASE + (off) - WG_LOCK_BASE)

/* SQLite's own lock bytes on a database (os_unix.c): PENDING, RESERVED,
** then 510 SHARED bytes. Probed at join for participants without walguard. */
#define WG_SQLITE_PENDING_BYTE 0x40000000LL
#define WG_SQLITE_LOCK_BYTES 512

/* Sidecar names past NAME_MAX are shortened (sidecar/name.go). */
#define WG_MAX_NAME_BYTES 255
#define WG_SHORT_NAME_PREFIX 200

/* policy.Family */
enum { WG_FAMILY_UNKNOWN = 0, WG_FAMILY_ROLLBACK = 1, WG_FAMILY_WAL = 2 };
/* policy.JournalMode */
enum {
  WG_MODE_UNKNOWN = 0, WG_MODE_DELETE = 1, WG_MODE_TRUNCATE = 2, WG_MODE_PERSIST = 3,
  WG_MODE_MEMORY = 4, WG_MODE_WAL = 5, WG_MODE_OFF = 6
};
/* policy.Protocol */
enum {
  WG_PROTO_UNKNOWN = 0, WG_PROTO_OFD = 1, WG_PROTO_POSIX = 2, WG_PROTO_FLOCK = 3,
  WG_PROTO_DOTLK = 4, WG_PROTO_NOLOCK = 5, WG_PROTO_WINDOWS = 6, WG_NUM_PROTOCOLS = 7
};
/* policy.Reason: stored as one byte, values never change. */
enum {
  WG_R_NONE = 0, WG_R_FIRST_USE = 1, WG_R_PRAGMA = 2, WG_R_INCOMPATIBLE = 3,
  WG_R_NETWORK_FS = 4, WG_R_FOREIGN_FLIP = 5, WG_R_REBUILT = 6, WG_R_OPERATOR = 7,
  WG_R_RECOVERED = 8, WG_R_SIDECAR_REPLACED = 12,
  WG_R_PROTOCOL_MISMATCH = 16, WG_R_FAMILY_MISMATCH = 17, WG_R_DOWNGRADE_WHILE_WAL = 18,
  WG_R_UPGRADE_WHILE_LIVE = 19, WG_R_NOLOCK = 20, WG_R_SECOND_HOST = 21,
  WG_R_WAL_UNSUPPORTED = 22, WG_R_TRANSIENT_FAULT = 23, WG_R_SIDECAR_CORRUPT = 24,
  WG_R_SIDECAR_UNAVAILABLE = 25, WG_R_SLOTS_FULL = 26, WG_R_HEADER_SAYS_WAL = 27,
  WG_R_FOREIGN_FLIP_REFUSED = 28, WG_R_LEAVE_WAL = 29, WG_R_OTHERS_LIVE = 30,
  WG_R_HARD_LINKS = 40
};
/* policy.Class */
enum { WG_CLASS_OTHER = 0, WG_CLASS_TRANSIENT = 1, WG_CLASS_INCOMPATIBLE = 2, WG_CLASS_MISMATCH = 3 };

/* Decode errors, in the order DecodeRecord checks them (record.go). */
enum {
  WG_OK = 0, WG_ERR_NO_RECORD, WG_ERR_TRUNCATED, WG_ERR_NOT_SIDECAR,
  WG_ERR_CHECKSUM, WG_ERR_VERSION, WG_ERR_INVALID
};

/* Text fields hold at most n-1 bytes (always NUL-terminated on disk). */
#define WG_HOST_FIELD 48
#define WG_PROGRAM_FIELD 48
#define WG_DETAIL_FIELD 112

typedef struct wg_record {
  uint16_t version; /* set by decode; encode writes the lowest that holds it, or this if higher */
  uint64_t generation;
  uint8_t family, mode, protocol, reason;
  uint32_t setter_pid;
  int64_t set_at_ns; /* Unix nanoseconds; 0 is unknown */
  char host[WG_HOST_FIELD];
  char program[WG_PROGRAM_FIELD];
  char detail[WG_DETAIL_FIELD];
  int switch_pending;
  uint8_t switch_from;
  uint8_t switch_slot;
} wg_record;

typedef struct wg_slot {
  uint32_t pid;
  uint8_t protocol, family, mode;
  int read_only;
  int64_t since_ns;
  char host[WG_HOST_FIELD];
  char program[WG_PROGRAM_FIELD];
} wg_slot;

/* wg_format.c */
uint32_t wg_crc32c(const uint8_t *p, size_t n);
void wg_encode_record(const wg_record *r, uint8_t out[WG_RECORD_SIZE]);
int wg_decode_record(const uint8_t *b, size_t n, wg_record *r, char *why, size_t whylen);
void wg_encode_slot(const wg_slot *s, uint8_t out[WG_SLOT_SIZE]);
int wg_decode_slot(const uint8_t *b, size_t n, wg_slot *s, char *why, size_t whylen);
const char *wg_decode_error_text(int err);
int wg_sidecar_path(const char *db, char *out, size_t outlen);
void wg_sha256(const uint8_t *p, size_t n, uint8_t out[32]);
/* wg_compose_identity composes the host identity as Go's hostid.Identity
** from a hostname and the first bytes of /etc/machine-id (both may hold
** any bytes, NUL included). */
void wg_compose_identity(const char *host, size_t hostlen, const char *mid, size_t midlen, char out[WG_HOST_FIELD]);
void wg_copy_text(char *dst, size_t dstlen, const char *src);
/* wg_textf formats into out, cutting what does not fit: messages are cut
** on purpose, at their end. */
void wg_textf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int wg_format_time(int64_t ns, char *out, size_t outlen);

/* A fixed buffer that JSON is appended to; len counts what did not fit. */
typedef struct wg_buf {
  char *p;
  size_t cap, len;
} wg_buf;
void wg_buf_add(wg_buf *b, const char *s, size_t n);
void wg_buf_str(wg_buf *b, const char *s);
void wg_buf_json_string(wg_buf *b, const char *s);
void wg_buf_record_json(wg_buf *b, const wg_record *r);
void wg_buf_slot_json(wg_buf *b, const wg_slot *e);

/* wg_policy.c: pure decisions of Go's policy package. A zero wg_policy is
** policy.Default(); the extension uses the defaults, the unit tests every
** choice the shared decision table names. */
typedef struct wg_policy {
  int downgrade_when_alone, allow_hard_links, allow_nolock, allow_second_host_wal;
  int network_fs_allow_wal, flip_refuse, record_refuse;
} wg_policy;
typedef struct wg_decision {
  int allow;
  int reason;
  char why[256];
} wg_decision;

typedef struct wg_family_request {
  int want;
  int others_in_other;
  int agreed;
  int agreed_reason;
  int shares_memory;
  const char *other_host_live; /* NULL if none */
  int header_says_wal;
  int reserved_held; /* SQLite's RESERVED lock is held: tested for a WAL join under a WAL header only */
  int deliberate;
  /* a live participant writes WAL to this database through another name
  ** (renamed, or linked and unlinked, while open), with a -wal and -shm of
  ** its own */
  int wal_under_another_name;
} wg_family_request;

typedef struct wg_transition_request {
  int from, to;
  int others_in_from;
  int header_says_wal;
  int deliberate;
  int others_live;
  wg_family_request fam;
} wg_transition_request;

const char *wg_family_name(int f);
const char *wg_mode_name(int m);
const char *wg_protocol_name(int p);
const char *wg_reason_name(int r);
const char *wg_class_name(int c);
int wg_known_reason(int r);
int wg_mode_family(int m);
int wg_family_of_header(uint8_t write, uint8_t read);
int wg_parse_journal_mode(const char *s, int *mode);
int wg_protocols_compatible(int a, int b);
void wg_admit_protocol(const wg_policy *pol, int mine, const int *others, int nothers, const int *foreign,
                       int nforeign, wg_decision *d);
void wg_admit_family(const wg_policy *pol, const wg_family_request *req, wg_decision *d);
void wg_transition(const wg_policy *pol, const wg_transition_request *req, wg_decision *d);
/* wg_switch_facts: for a change to family to, with the header's family hf
** and the record's, the family changed from, whether the header (or the
** record) says WAL, and the family whose live holders are in the way. */
void wg_switch_facts(int to, int hf, int rec_family, int rec_switch_pending, int *from, int *says_wal, int *leaving);
/* wg_decide_record: what a join does with the record it read (decode
** outcome state, WG_OK or WG_ERR_*); *records is the reason it writes, or -1. */
void wg_decide_record(const wg_policy *pol, int state, int mirror_live, wg_decision *d, int *records);
/* wg_decide_header: the header's family against the record's. */
void wg_decide_header(const wg_policy *pol, int hf, int rec_family, int switch_pending, int switch_from,
                      wg_decision *d, int *records);
void wg_decide_names(const wg_policy *pol, unsigned long nlink, wg_decision *d);
typedef struct wg_settle_request {
  int cls, lasting, header_says_wal, wal_live;
} wg_settle_request;
void wg_settle(const wg_settle_request *req, wg_decision *d);
int wg_reason_class(int reason);
int64_t wg_retry_delay_ns(int attempt, double rnd);
#define WG_RETRY_ATTEMPTS 4

#endif

/* wg_sidecar.c: the sidecar file and its locks (sidecar/sidecar.go,
** mirror.go, internal/filelock). Every lock is an OFD byte-range lock
** (F_OFD_SETLK), taken on the sidecar first and on its mirror byte of the
** database second, released in the other order. */
typedef struct wg_inode wg_inode;

typedef struct wg_side {
  int fd;           /* the sidecar, O_CLOEXEC */
  int mirror;       /* walguard's own descriptor of the database, or -1 */
  wg_inode *inode;  /* the pool the mirror descriptor returns to */
  unsigned gen;     /* the fork generation it was opened in */
  int slot;         /* owned slot, or -1 */
  int protocol;     /* protocol byte held shared, or 0 */
  int family;       /* family byte held shared, or 0 */
  struct wg_side *next, *prev; /* the list of open sidecars, for fork */
  char path[4096 + 64];
} wg_side;

/* wg_side results: 0, WG_HELD (someone else holds the byte), or -errno. */
#define WG_HELD 1

int wg_side_open(wg_side *s, const char *db, unsigned perm, char *why, size_t whylen);
void wg_side_close(wg_side *s);
int wg_side_forked(const wg_side *s);
int wg_side_lock_agreement(wg_side *s, int64_t wait_ns);
void wg_side_unlock_agreement(wg_side *s);
int wg_side_read_record(wg_side *s, wg_record *r, char *why, size_t whylen);
int wg_side_write_record(wg_side *s, const wg_record *r);
int wg_side_acquire_slot(wg_side *s);
int wg_side_write_slot(wg_side *s, const wg_slot *e);
int wg_side_hold_protocol(wg_side *s, int p);
int wg_side_hold_family(wg_side *s, int f);
int wg_side_release_family(wg_side *s);
int wg_side_others_hold(wg_side *s, long long off);
int wg_side_live_elsewhere(wg_side *s);
/* wg_side_other_host_live: the host of a live participant (not own slot)
** whose entry names a host other than host, copied to out; 1 if found. */
int wg_side_other_host_live(wg_side *s, const char *host, char *out, size_t outlen);
/* wg_side_slot_live: whether slot i is owned by another open and its entry
** decodes and names pid on host (vfs/switch.go switcherLive): 1, 0 or -errno. */
int wg_side_slot_live(wg_side *s, int i, uint32_t pid, const char *host);
/* wg_side_probe_db_locks: SQLite's own lock bytes, tested on the mirror
** descriptor: *fcntl_pid > 0 a POSIX holder, -1 an OFD holder, 0 none;
** *flock 1 if a flock(2) lock is held. */
int wg_side_probe_db_locks(wg_side *s, int *fcntl_pid, int *flock_held);
/* wg_side_wal_under_another_name: a live WAL writer reaches the database
** through another name (sidecar/othername.go): 1, 0 or -errno. */
int wg_side_wal_under_another_name(wg_side *s, const char *db);
int wg_test_lock_fd(int fd, long long off);

/* wg_foreign.c: a process holding SQLite's own locks on a database or its
** -shm without a walguard slot (lockcheck.ForeignParticipant). */
#define WG_FOREIGN_LOCKS 16
#define WG_FOREIGN_LOCK_NAME 48
typedef struct wg_foreign {
  int pid; /* 0 when the kernel does not say */
  char command[64];
  char protocol[16]; /* posix, ofd, flock: its lock on the database (else on the -shm) */
  int nlocks;
  char locks[WG_FOREIGN_LOCKS][WG_FOREIGN_LOCK_NAME]; /* "db SHARED", "shm DMS" */
} wg_foreign;
/* wg_foreign_list lists into out (at most max) the holders of SQLite's lock
** bytes on db and db-shm from /proc/locks, leaving out wg_pids (the pids of
** live walguard slots on this host) and, if ofd_participant, OFD locks the
** kernel attributes to nobody: the count, or -errno. */
int wg_foreign_list(const char *db, const uint32_t *wg_pids, int nwg, int ofd_participant, wg_foreign *out, int max);
const char *wg_host_identity(void);
const char *wg_program_name(void);
int64_t wg_now_ns(void);
void wg_fork_init(void);
unsigned wg_fork_generation(void);
