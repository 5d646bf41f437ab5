/*
** wg_policy.c: the decisions of Go's policy package, with its defaults
** (policy.Default()): pure functions, no I/O. The names of enums are
** the ones Go's String methods give, so JSON and messages read the same
** from both implementations.
*/
#include "wg.h"

#include <stdio.h>
#include <string.h>

const char *wg_family_name(int f) {
  switch (f) {
    case WG_FAMILY_ROLLBACK: return "rollback";
    case WG_FAMILY_WAL: return "wal";
  }
  return "unknown";
}

static const char *const mode_names[] = {"unknown", "delete", "truncate", "persist", "memory", "wal", "off"};

const char *wg_mode_name(int m) { return (m >= 0 && m <= 6) ? mode_names[m] : "unknown"; }

static const char *const protocol_names[] = {"unknown", "ofd", "posix", "flock", "dotlk", "nolock", "windows"};

const char *wg_protocol_name(int p) { return (p >= 0 && p < WG_NUM_PROTOCOLS) ? protocol_names[p] : "unknown"; }

const char *wg_reason_name(int r) {
  switch (r) {
    case WG_R_NONE: return "none";
    case WG_R_FIRST_USE: return "first use";
    case WG_R_PRAGMA: return "journal_mode pragma";
    case WG_R_INCOMPATIBLE: return "deterministic incompatibility";
    case WG_R_NETWORK_FS: return "filesystem cannot share memory";
    case WG_R_FOREIGN_FLIP: return "header changed without walguard";
    case WG_R_REBUILT: return "record rebuilt";
    case WG_R_SIDECAR_REPLACED: return "sidecar replaced while in use";
    case WG_R_OPERATOR: return "operator";
    case WG_R_RECOVERED: return "interrupted switch recovered";
    case WG_R_PROTOCOL_MISMATCH: return "locking protocol mismatch";
    case WG_R_FAMILY_MISMATCH: return "journal family mismatch";
    case WG_R_DOWNGRADE_WHILE_WAL: return "downgrade while WAL in use";
    case WG_R_UPGRADE_WHILE_LIVE: return "WAL while rollback writers live";
    case WG_R_NOLOCK: return "nolock connection shares the database";
    case WG_R_SECOND_HOST: return "WAL participant on another host";
    case WG_R_WAL_UNSUPPORTED: return "WAL not supported here";
    case WG_R_TRANSIENT_FAULT: return "transient fault";
    case WG_R_SIDECAR_CORRUPT: return "sidecar corrupt";
    case WG_R_SIDECAR_UNAVAILABLE: return "sidecar unavailable";
    case WG_R_SLOTS_FULL: return "participant slots full";
    case WG_R_HEADER_SAYS_WAL: return "header says WAL";
    case WG_R_FOREIGN_FLIP_REFUSED: return "foreign header flip refused";
    case WG_R_HARD_LINKS: return "database has several names";
    case WG_R_LEAVE_WAL: return "leaving WAL is deliberate";
    case WG_R_OTHERS_LIVE: return "other participants live";
  }
  return "unknown reason";
}

int wg_known_reason(int r) { return strcmp(wg_reason_name(r), "unknown reason") != 0; }

static const char *const class_names[] = {"other", "transient", "incompatible", "mismatch"};

const char *wg_class_name(int c) { return (c >= 0 && c <= 3) ? class_names[c] : "other"; }

int wg_mode_family(int m) {
  switch (m) {
    case WG_MODE_WAL: return WG_FAMILY_WAL;
    case WG_MODE_DELETE: case WG_MODE_TRUNCATE: case WG_MODE_PERSIST: case WG_MODE_MEMORY: case WG_MODE_OFF:
      return WG_FAMILY_ROLLBACK;
  }
  return WG_FAMILY_UNKNOWN;
}

/* wg_family_of_header: database header bytes 18/19, 1 = rollback, 2 = WAL. */
int wg_family_of_header(uint8_t write, uint8_t read) {
  if (write == 1 && read == 1) return WG_FAMILY_ROLLBACK;
  if (write == 2 && read == 2) return WG_FAMILY_WAL;
  return WG_FAMILY_UNKNOWN;
}

/* wg_parse_journal_mode parses a PRAGMA journal_mode value as SQLite does
** (pragma.c): the first mode in SQLite's order of which the value is a
** prefix, ASCII case ignored. Returns 1 and sets *mode, or 0. */
int wg_parse_journal_mode(const char *s, int *mode) {
  static const int order[] = {WG_MODE_DELETE, WG_MODE_PERSIST, WG_MODE_OFF, WG_MODE_TRUNCATE, WG_MODE_MEMORY,
                              WG_MODE_WAL};
  size_t n = strlen(s);
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    const char *name = mode_names[order[i]];
    if (n > strlen(name)) continue;
    size_t k = 0;
    for (; k < n; k++) {
      char x = s[k], y = name[k];
      if (x >= 'A' && x <= 'Z') x = (char)(x + 'a' - 'A');
      if (x != y) break;
    }
    if (k == n) {
      *mode = order[i];
      return 1;
    }
  }
  *mode = WG_MODE_UNKNOWN;
  return 0;
}

/* OFD and POSIX fcntl locks see each other (policy.Compatible). */
int wg_protocols_compatible(int a, int b) {
  int fa = a == WG_PROTO_OFD || a == WG_PROTO_POSIX, fb = b == WG_PROTO_OFD || b == WG_PROTO_POSIX;
  return a == b || (fa && fb);
}

static void allow(wg_decision *d) {
  d->allow = 1;
  d->reason = WG_R_NONE;
  d->why[0] = 0;
}

static void admit_beside(const wg_policy *pol, int mine, int o, const char *who, wg_decision *d) {
  allow(d);
  if (wg_protocols_compatible(o, mine)) return;
  if ((o == WG_PROTO_NOLOCK || mine == WG_PROTO_NOLOCK) && pol->allow_nolock) return;
  d->allow = 0;
  if (o == WG_PROTO_NOLOCK || mine == WG_PROTO_NOLOCK) {
    d->reason = WG_R_NOLOCK;
    snprintf(d->why, sizeof d->why,
             "this connection locks with %s and %s with %s; a connection without locks cannot share a database",
             wg_protocol_name(mine), who, wg_protocol_name(o));
    return;
  }
  d->reason = WG_R_PROTOCOL_MISMATCH;
  snprintf(d->why, sizeof d->why, "this connection locks with %s but %s locks with %s", wg_protocol_name(mine), who,
           wg_protocol_name(o));
}

/* wg_admit_protocol: invariant 1, one locking protocol per database, where
** compatible ones count as one; holders of SQLite's own locks count too. */
void wg_admit_protocol(const wg_policy *pol, int mine, const int *others, int nothers, const int *foreign,
                       int nforeign, wg_decision *d) {
  for (int i = 0; i < nothers; i++) {
    admit_beside(pol, mine, others[i], "a live participant", d);
    if (!d->allow) return;
  }
  for (int i = 0; i < nforeign; i++) {
    admit_beside(pol, mine, foreign[i],
                 "a process holding the database's own SQLite locks (without walguard, or of another build)", d);
    if (!d->allow) return;
  }
  allow(d);
}

static int family_other(int f) {
  return f == WG_FAMILY_ROLLBACK ? WG_FAMILY_WAL : f == WG_FAMILY_WAL ? WG_FAMILY_ROLLBACK : WG_FAMILY_UNKNOWN;
}

static int permanent_rollback(int r) { return r == WG_R_INCOMPATIBLE || r == WG_R_NETWORK_FS; }

/* wg_admit_family: never two families at once (a rollback declaration is
** moot once the header says WAL, unless its writer is mid-transaction:
** RESERVED held), WAL never where memory is not shared. */
void wg_admit_family(const wg_policy *pol, const wg_family_request *req, wg_decision *d) {
  allow(d);
  if (req->others_in_other && !(req->want == WG_FAMILY_WAL && req->header_says_wal && !req->reserved_held)) {
    d->allow = 0;
    d->reason = WG_R_FAMILY_MISMATCH;
    snprintf(d->why, sizeof d->why, "a live participant writes with the %s journal; this connection wants %s",
             wg_family_name(family_other(req->want)), wg_family_name(req->want));
    return;
  }
  if (req->want != WG_FAMILY_WAL) return;
  if (req->wal_under_another_name && !pol->allow_hard_links) {
    d->allow = 0;
    d->reason = WG_R_FAMILY_MISMATCH;
    snprintf(d->why, sizeof d->why,
             "a live participant writes WAL to this database through another name (renamed, or linked and unlinked, "
             "while open), with a -wal and -shm of its own; a second WAL on the same file would lose commits; retry "
             "when it closes");
    return;
  }
  if (!req->shares_memory && !pol->network_fs_allow_wal) {
    d->allow = 0;
    d->reason = WG_R_WAL_UNSUPPORTED;
    snprintf(d->why, sizeof d->why, "the filesystem cannot share memory between processes; WAL needs it");
    return;
  }
  if (req->agreed == WG_FAMILY_ROLLBACK && permanent_rollback(req->agreed_reason) && !req->deliberate) {
    d->allow = 0;
    d->reason = WG_R_WAL_UNSUPPORTED;
    snprintf(d->why, sizeof d->why, "the agreed family is rollback (%s)", wg_reason_name(req->agreed_reason));
    return;
  }
  if (req->other_host_live && !pol->allow_second_host_wal) {
    d->allow = 0;
    d->reason = WG_R_SECOND_HOST;
    snprintf(d->why, sizeof d->why, "a live participant runs on host %s; WAL's shared memory cannot span hosts",
             req->other_host_live);
  }
}

/* wg_transition: invariant 2, WAL is left only deliberately and never
** while another connection uses it (policy.Transition). */
void wg_transition(const wg_policy *pol, const wg_transition_request *req, wg_decision *d) {
  allow(d);
  if (req->deliberate && req->others_live) {
    d->allow = 0;
    d->reason = WG_R_OTHERS_LIVE;
    snprintf(d->why, sizeof d->why,
             "a deliberate mode change needs the database to itself; retry when the other participants have closed");
    return;
  }
  if (req->to == WG_FAMILY_UNKNOWN) return;
  wg_family_request fam = req->fam;
  fam.want = req->to;
  fam.deliberate = req->deliberate;
  int leaving = req->to == WG_FAMILY_ROLLBACK && (req->from == WG_FAMILY_WAL || req->header_says_wal);
  if (!leaving && (req->from == req->to || req->from == WG_FAMILY_UNKNOWN)) {
    wg_admit_family(pol, &fam, d);
    return;
  }
  if (req->others_in_from) {
    d->allow = 0;
    if (leaving) {
      d->reason = WG_R_DOWNGRADE_WHILE_WAL;
      snprintf(d->why, sizeof d->why, "another live connection uses WAL; leaving WAL now would mix journal families");
    } else {
      d->reason = WG_R_UPGRADE_WHILE_LIVE;
      snprintf(d->why, sizeof d->why,
               "another live connection writes with the rollback journal; WAL can be enabled when it closes");
    }
    return;
  }
  if (leaving && !req->deliberate && !pol->downgrade_when_alone) {
    d->allow = 0;
    d->reason = WG_R_LEAVE_WAL;
    snprintf(d->why, sizeof d->why,
             "the database is in WAL and leaving WAL is a deliberate act, never a fallback: use "
             "walguard.SetJournalMode(ctx, path, mode) or run \"walguard mode DB delete\" while no other connection "
             "is open");
    return;
  }
  wg_admit_family(pol, &fam, d);
}

void wg_switch_facts(int to, int hf, int rec_family, int rec_switch_pending, int *from, int *says_wal, int *leaving) {
  *from = hf != WG_FAMILY_UNKNOWN ? hf : rec_family;
  *says_wal = hf == WG_FAMILY_WAL || (hf == WG_FAMILY_ROLLBACK && rec_family == WG_FAMILY_WAL && !rec_switch_pending);
  *leaving = *from;
  if (to == WG_FAMILY_ROLLBACK && *says_wal) *leaving = WG_FAMILY_WAL;
  if (*leaving == to) *leaving = WG_FAMILY_UNKNOWN;
}

static void refuse_d(wg_decision *d, int reason, const char *why) {
  d->allow = 0;
  d->reason = reason;
  snprintf(d->why, sizeof d->why, "%s", why);
}

void wg_decide_record(const wg_policy *pol, int state, int mirror_live, wg_decision *d, int *records) {
  allow(d);
  *records = -1;
  switch (state) {
    case WG_OK: return;
    case WG_ERR_NO_RECORD:
      *records = mirror_live ? WG_R_SIDECAR_REPLACED : WG_R_FIRST_USE;
      return;
    case WG_ERR_VERSION:
      refuse_d(d, WG_R_SIDECAR_CORRUPT, "the sidecar was written by a newer walguard; upgrade this program");
      return;
  }
  if (pol->record_refuse) {
    refuse_d(d, WG_R_SIDECAR_CORRUPT,
             "the sidecar is not a valid record and the policy refuses to rebuild it; inspect it with walguard check");
    return;
  }
  *records = WG_R_REBUILT;
}

void wg_decide_header(const wg_policy *pol, int hf, int rec_family, int switch_pending, int switch_from,
                      wg_decision *d, int *records) {
  allow(d);
  *records = -1;
  if (hf == WG_FAMILY_UNKNOWN) return;
  if (rec_family == WG_FAMILY_UNKNOWN) {
    *records = WG_R_FIRST_USE;
    return;
  }
  if (hf == rec_family || (switch_pending && hf == switch_from)) return;
  if (pol->flip_refuse) {
    d->allow = 0;
    d->reason = WG_R_FOREIGN_FLIP_REFUSED;
    snprintf(d->why, sizeof d->why, "the header says %s but walguard agreed on %s; a process without walguard changed it",
             wg_family_name(hf), wg_family_name(rec_family));
    return;
  }
  *records = WG_R_FOREIGN_FLIP;
}

void wg_decide_names(const wg_policy *pol, unsigned long nlink, wg_decision *d) {
  allow(d);
  if (nlink > 1 && !pol->allow_hard_links) {
    d->allow = 0;
    d->reason = WG_R_HARD_LINKS;
    snprintf(d->why, sizeof d->why,
             "the file has %lu names (hard links), and SQLite keeps -journal and -wal by name, so writers through two "
             "names would keep two journals for one database",
             nlink);
  }
}

/* wg_settle: policy.Settle. The extension itself never settles (it has no
** settle rule): an error entering WAL is returned and the record left to
** a Go participant; the function is here so the table holds it too. */
void wg_settle(const wg_settle_request *req, wg_decision *d) {
  allow(d);
  if (req->cls != WG_CLASS_INCOMPATIBLE) {
    d->allow = 0;
    d->reason = WG_R_TRANSIENT_FAULT;
    snprintf(d->why, sizeof d->why, "a %s error never changes the agreed journal mode", wg_class_name(req->cls));
  } else if (!req->lasting) {
    refuse_d(d, WG_R_TRANSIENT_FAULT, "an incompatible error that did not persist on fresh descriptors is taken for transient");
  } else if (req->header_says_wal) {
    refuse_d(d, WG_R_HEADER_SAYS_WAL, "the database header says WAL; it is never downgraded on an error");
  } else if (req->wal_live) {
    refuse_d(d, WG_R_DOWNGRADE_WHILE_WAL, "another live connection uses WAL");
  }
}

/* wg_reason_class: what retrying can do about a refusal (RefusalError.WalguardClass). */
int wg_reason_class(int reason) {
  switch (reason) {
    case WG_R_TRANSIENT_FAULT: return WG_CLASS_TRANSIENT;
    case WG_R_WAL_UNSUPPORTED: case WG_R_SIDECAR_CORRUPT: case WG_R_SIDECAR_UNAVAILABLE:
    case WG_R_HEADER_SAYS_WAL: case WG_R_HARD_LINKS: case WG_R_LEAVE_WAL:
      return WG_CLASS_INCOMPATIBLE;
  }
  return WG_CLASS_MISMATCH;
}

/* wg_retry_delay_ns: policy.DefaultRetry's Delay, 1ms doubling to 25ms,
** shortened by up to half at random (rnd in [0,1)). */
int64_t wg_retry_delay_ns(int attempt, double rnd) {
  const int64_t base = 1000000, cap = 25000000;
  if (attempt < 1) attempt = 1;
  int64_t d = base;
  for (int i = 1; i < attempt && d < cap; i++) d *= 2;
  if (d > cap) d = cap;
  if (rnd < 0) rnd = 0;
  if (rnd > 1) rnd = 1;
  return (int64_t)((double)d * (1 - 0.5 * rnd));
}
