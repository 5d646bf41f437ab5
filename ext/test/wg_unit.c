/*
** wg_unit.c: libwalguard's format and policy code against the shared
** protocol vectors (testdata/protocol, README.md there): every record and
** slot vector decodes to its row, re-encodes to its bytes and prints its
** JSON; every whole sidecar file holds its vectors; every row of the
** decision table gets its decision, reason, code and recorded reason.
**
** Usage: wg_unit DIR   (DIR is testdata/protocol). Prints one line per
** failure and a summary; exits 1 on any failure. ext/ext_test.go builds and
** runs it, plain and under AddressSanitizer and UBSan.
*/
#include "../src/wg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;

#define FAIL(...)                 \
  do {                            \
    failures++;                   \
    fprintf(stderr, "FAIL: ");    \
    fprintf(stderr, __VA_ARGS__); \
    fprintf(stderr, "\n");        \
  } while (0)

/* ---- the table format ---- */

typedef struct table {
  char **names;
  int ncols;
  char ***rows;
  int nrows;
} table;

static char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  size_t k;
  while (buf && (k = fread(buf + len, 1, cap - len, f)) > 0) {
    len += k;
    if (len == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) buf[len] = 0;
  if (n) *n = len;
  return buf;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* unescape a cell in place: \\ \t \n \r \xHH; returns its length
** (a cell may hold NUL bytes). */
static size_t unescape(char *s) {
  char *o = s;
  for (char *p = s; *p; p++) {
    if (*p != '\\') {
      *o++ = *p;
      continue;
    }
    p++;
    switch (*p) {
      case '\\': *o++ = '\\'; break;
      case 't': *o++ = '\t'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 'x':
        if (hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
          *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
          p += 2;
        }
        break;
      default: *o++ = *p; if (!*p) p--;
    }
  }
  *o = 0;
  return (size_t)(o - s);
}

static char **split(char *line, int *n) {
  int cap = 8, k = 0;
  char **cells = malloc(sizeof *cells * (size_t)cap);
  char *p = line;
  for (;;) {
    char *tab = strchr(p, '\t');
    if (tab) *tab = 0;
    if (k == cap) {
      cap *= 2;
      cells = realloc(cells, sizeof *cells * (size_t)cap);
    }
    cells[k++] = p;
    if (!tab) break;
    p = tab + 1;
  }
  *n = k;
  return cells;
}

static char *g_tables[8];
static int g_ntables;

static int load_table(const char *dir, const char *name, table *t) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *text = read_file(path, NULL);
  if (!text) {
    FAIL("cannot read %s", path);
    return -1;
  }
  g_tables[g_ntables++] = text;
  memset(t, 0, sizeof *t);
  int cap = 16;
  t->rows = malloc(sizeof *t->rows * (size_t)cap);
  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    if (*line && *line != '#') {
      int n;
      char **cells = split(line, &n);
      if (!t->names) {
        t->names = cells;
        t->ncols = n;
      } else {
        if (n != t->ncols) FAIL("%s: a row with %d cells, the header has %d", name, n, t->ncols);
        if (t->nrows == cap) {
          cap *= 2;
          t->rows = realloc(t->rows, sizeof *t->rows * (size_t)cap);
        }
        t->rows[t->nrows++] = cells;
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  return 0;
}

static void free_table(table *t) {
  for (int i = 0; i < t->nrows; i++) free(t->rows[i]);
  free(t->rows);
  free(t->names);
}

/* cell_len returns the named cell of row, unescaped, in one of a few
** rotating buffers, and its length; "" for a column the table lacks. */
static const char *cell_len(const table *t, char **row, const char *col, size_t *len) {
  static char bufs[16][8192];
  static int next;
  for (int i = 0; i < t->ncols; i++) {
    if (strcmp(t->names[i], col) != 0) continue;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s", row[i]);
    size_t n = unescape(b);
    if (len) *len = n;
    return b;
  }
  if (len) *len = 0;
  return "";
}

static const char *cell(const table *t, char **row, const char *col) { return cell_len(t, row, col, NULL); }

/* ---- names to values ---- */

static int by_name(const char *s, const char *(*name)(int), int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(name(i), s) == 0) return i;
  return -1;
}

static int family_of(const char *s) { return *s ? by_name(s, wg_family_name, 3) : WG_FAMILY_UNKNOWN; }
static int mode_of(const char *s) { return by_name(s, wg_mode_name, 7); }
static int protocol_of(const char *s) { return by_name(s, wg_protocol_name, WG_NUM_PROTOCOLS); }
static int reason_of(const char *s) {
  for (int r = 0; r < 64; r++)
    if (wg_known_reason(r) && strcmp(wg_reason_name(r), s) == 0) return r;
  return -1;
}
static int class_of(const char *s) { return by_name(s, wg_class_name, 4); }
static int yes(const char *s) { return strcmp(s, "yes") == 0; }

static const char *expect_of(int err) {
  switch (err) {
    case WG_OK: return "ok";
    case WG_ERR_NO_RECORD: return "no-record";
    case WG_ERR_TRUNCATED: return "truncated";
    case WG_ERR_NOT_SIDECAR: return "not-sidecar";
    case WG_ERR_CHECKSUM: return "checksum";
    case WG_ERR_VERSION: return "version";
    case WG_ERR_INVALID: return "invalid";
  }
  return "?";
}

static int state_of(const char *s) {
  for (int e = WG_OK; e <= WG_ERR_INVALID; e++)
    if (strcmp(expect_of(e), s) == 0) return e;
  return -1;
}

/* in_list reports whether name is in the comma-separated list. */
static int in_list(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *c = strchr(p, ',');
    size_t l = c ? (size_t)(c - p) : strlen(p);
    if (l == n && strncmp(p, name, n) == 0) return 1;
    if (!c) break;
    p = c + 1;
  }
  return 0;
}

static void check_eq(const char *what, const char *file, const char *got, const char *want) {
  checks++;
  if (strcmp(got, want) != 0) FAIL("%s %s: got %s, want %s", what, file, got, want);
}

static void check_num(const char *what, const char *file, long long got, const char *want) {
  char g[32];
  snprintf(g, sizeof g, "%lld", got);
  check_eq(what, file, g, want);
}

static void check_unum(const char *what, const char *file, unsigned long long got, const char *want) {
  char g[32];
  snprintf(g, sizeof g, "%llu", got);
  check_eq(what, file, g, want);
}

/* ---- records and slots ---- */

static void test_records(const char *dir) {
  table t;
  if (load_table(dir, "records.tsv", &t)) return;
  for (int i = 0; i < t.nrows; i++) {
    char **row = t.rows[i];
    char file[256];
    snprintf(file, sizeof file, "%s", cell(&t, row, "file"));
    char path[4096];
    snprintf(path, sizeof path, "%s/record/%s.bin", dir, file);
    size_t n;
    char *bytes = read_file(path, &n);
    if (!bytes) {
      FAIL("cannot read %s", path);
      continue;
    }
    wg_record r;
    char why[300];
    int rc = wg_decode_record((const uint8_t *)bytes, n, &r, why, sizeof why);
    check_eq("record outcome", file, expect_of(rc), cell(&t, row, "expect"));
    if (rc == WG_OK && strcmp(cell(&t, row, "expect"), "ok") == 0) {
      check_num("record version", file, r.version, cell(&t, row, "version"));
      check_unum("record generation", file, r.generation, cell(&t, row, "generation"));
      check_eq("record family", file, wg_family_name(r.family), cell(&t, row, "family"));
      check_eq("record mode", file, wg_mode_name(r.mode), cell(&t, row, "mode"));
      check_eq("record protocol", file, wg_protocol_name(r.protocol), cell(&t, row, "protocol"));
      check_eq("record reason", file, wg_reason_name(r.reason), cell(&t, row, "reason"));
      check_unum("record setter_pid", file, r.setter_pid, cell(&t, row, "setter_pid"));
      check_num("record set_at_ns", file, r.set_at_ns, cell(&t, row, "set_at_ns"));
      check_eq("record host", file, r.host, cell(&t, row, "host"));
      check_eq("record program", file, r.program, cell(&t, row, "program"));
      check_eq("record detail", file, r.detail, cell(&t, row, "detail"));
      check_eq("record switch_pending", file, r.switch_pending ? "yes" : "no",
               *cell(&t, row, "switch_pending") ? cell(&t, row, "switch_pending") : "no");
      if (r.switch_pending) {
        check_eq("record switch_from", file, wg_family_name(r.switch_from), cell(&t, row, "switch_from"));
        check_num("record switch_slot", file, r.switch_slot, cell(&t, row, "switch_slot"));
      }
      /* The row's values encode to the file's bytes. */
      wg_record e;
      memset(&e, 0, sizeof e);
      e.version = (uint16_t)atoi(cell(&t, row, "version"));
      e.generation = strtoull(cell(&t, row, "generation"), NULL, 10);
      e.family = (uint8_t)family_of(cell(&t, row, "family"));
      e.mode = (uint8_t)mode_of(cell(&t, row, "mode"));
      e.protocol = (uint8_t)protocol_of(cell(&t, row, "protocol"));
      e.reason = (uint8_t)reason_of(cell(&t, row, "reason"));
      e.setter_pid = (uint32_t)strtoul(cell(&t, row, "setter_pid"), NULL, 10);
      e.set_at_ns = strtoll(cell(&t, row, "set_at_ns"), NULL, 10);
      wg_copy_text(e.host, sizeof e.host, cell(&t, row, "host"));
      wg_copy_text(e.program, sizeof e.program, cell(&t, row, "program"));
      wg_copy_text(e.detail, sizeof e.detail, cell(&t, row, "detail"));
      e.switch_pending = yes(cell(&t, row, "switch_pending"));
      if (e.switch_pending) {
        e.switch_from = (uint8_t)family_of(cell(&t, row, "switch_from"));
        e.switch_slot = (uint8_t)atoi(cell(&t, row, "switch_slot"));
      }
      uint8_t enc[WG_RECORD_SIZE];
      wg_encode_record(&e, enc);
      checks++;
      if (n < WG_RECORD_SIZE || memcmp(enc, bytes, WG_RECORD_SIZE) != 0) FAIL("record %s: encoding differs", file);
      char json[2048];
      wg_buf b = {json, sizeof json, 0};
      wg_buf_record_json(&b, &r);
      check_eq("record json", file, json, cell(&t, row, "json"));
    } else if (rc != WG_OK) {
      checks++;
      if (!why[0]) FAIL("record %s: no reason given for %s", file, expect_of(rc));
    }
    free(bytes);
  }
  free_table(&t);
}

static void test_slots(const char *dir) {
  table t;
  if (load_table(dir, "slots.tsv", &t)) return;
  for (int i = 0; i < t.nrows; i++) {
    char **row = t.rows[i];
    char file[256];
    snprintf(file, sizeof file, "%s", cell(&t, row, "file"));
    char path[4096];
    snprintf(path, sizeof path, "%s/slot/%s.bin", dir, file);
    size_t n;
    char *bytes = read_file(path, &n);
    if (!bytes) {
      FAIL("cannot read %s", path);
      continue;
    }
    wg_slot s;
    int rc = wg_decode_slot((const uint8_t *)bytes, n, &s, NULL, 0);
    check_eq("slot outcome", file, expect_of(rc), cell(&t, row, "expect"));
    if (rc == WG_OK && strcmp(cell(&t, row, "expect"), "ok") == 0) {
      check_unum("slot pid", file, s.pid, cell(&t, row, "pid"));
      check_eq("slot protocol", file, wg_protocol_name(s.protocol), cell(&t, row, "protocol"));
      check_eq("slot family", file, wg_family_name(s.family), cell(&t, row, "family"));
      check_eq("slot mode", file, wg_mode_name(s.mode), cell(&t, row, "mode"));
      check_eq("slot read_only", file, s.read_only ? "yes" : "no",
               *cell(&t, row, "read_only") ? cell(&t, row, "read_only") : "no");
      check_num("slot since_ns", file, s.since_ns, cell(&t, row, "since_ns"));
      check_eq("slot host", file, s.host, cell(&t, row, "host"));
      check_eq("slot program", file, s.program, cell(&t, row, "program"));
      wg_slot e;
      memset(&e, 0, sizeof e);
      e.pid = (uint32_t)strtoul(cell(&t, row, "pid"), NULL, 10);
      e.protocol = (uint8_t)protocol_of(cell(&t, row, "protocol"));
      e.family = (uint8_t)family_of(cell(&t, row, "family"));
      e.mode = (uint8_t)mode_of(cell(&t, row, "mode"));
      e.read_only = yes(cell(&t, row, "read_only"));
      e.since_ns = strtoll(cell(&t, row, "since_ns"), NULL, 10);
      wg_copy_text(e.host, sizeof e.host, cell(&t, row, "host"));
      wg_copy_text(e.program, sizeof e.program, cell(&t, row, "program"));
      uint8_t enc[WG_SLOT_SIZE];
      wg_encode_slot(&e, enc);
      checks++;
      if (n < WG_SLOT_SIZE || memcmp(enc, bytes, WG_SLOT_SIZE) != 0) FAIL("slot %s: encoding differs", file);
      char json[1024];
      wg_buf b = {json, sizeof json, 0};
      wg_buf_slot_json(&b, &s);
      check_eq("slot json", file, json, cell(&t, row, "json"));
    }
    free(bytes);
  }
  free_table(&t);
}

static void test_files(const char *dir) {
  table t;
  if (load_table(dir, "files.tsv", &t)) return;
  for (int i = 0; i < t.nrows; i++) {
    char **row = t.rows[i];
    char file[256];
    snprintf(file, sizeof file, "%s", cell(&t, row, "file"));
    char path[4096];
    snprintf(path, sizeof path, "%s/file/%s.bin", dir, file);
    size_t n;
    char *bytes = read_file(path, &n);
    if (!bytes) {
      FAIL("cannot read %s", path);
      continue;
    }
    check_num("file size", file, (long long)n, cell(&t, row, "size"));
    checks++;
    if (n != WG_DATA_SIZE) FAIL("file %s: %zu bytes, the data area is %d", file, n, WG_DATA_SIZE);
    wg_record r;
    int rc = wg_decode_record((const uint8_t *)bytes, n, &r, NULL, 0);
    checks++;
    if (*cell(&t, row, "record") ? rc == WG_ERR_NO_RECORD : rc != WG_ERR_NO_RECORD)
      FAIL("file %s: record outcome %s", file, expect_of(rc));
    /* every slot named decodes like its vector; every other is never written */
    for (int s = 0; s < WG_MAX_SLOTS && n == WG_DATA_SIZE; s++) {
      char key[16];
      snprintf(key, sizeof key, "%d=", s);
      const char *slots = cell(&t, row, "slots");
      int named = 0;
      for (const char *p = slots; *p;) {
        if (strncmp(p, key, strlen(key)) == 0) named = 1;
        const char *c = strchr(p, ',');
        if (!c) break;
        p = c + 1;
      }
      wg_slot e;
      int src = wg_decode_slot((const uint8_t *)bytes + WG_SLOT_TABLE_OFFSET + s * WG_SLOT_SIZE, WG_SLOT_SIZE, &e, NULL, 0);
      checks++;
      if (!named && src != WG_ERR_NO_RECORD) FAIL("file %s: slot %d should be never written", file, s);
      if (named && src == WG_ERR_NO_RECORD) FAIL("file %s: slot %d should hold an entry", file, s);
    }
    free(bytes);
  }
  free_table(&t);
}

/* ---- the decision table ---- */

static wg_policy policy_of(const char *s) {
  wg_policy p;
  memset(&p, 0, sizeof p);
  p.downgrade_when_alone = in_list(s, "DowngradeWhenAlone");
  p.allow_hard_links = in_list(s, "AllowHardLinks");
  p.allow_nolock = in_list(s, "AllowNoLock");
  p.allow_second_host_wal = in_list(s, "AllowSecondHostWAL");
  p.network_fs_allow_wal = in_list(s, "NetworkFSAllowWAL");
  p.flip_refuse = in_list(s, "FlipRefuse");
  p.record_refuse = in_list(s, "RecordRefuse");
  return p;
}

static int list_protocols(const char *list, int *out) {
  int n = 0;
  for (int p = 1; p < WG_NUM_PROTOCOLS; p++)
    if (in_list(list, wg_protocol_name(p))) out[n++] = p;
  return n;
}

static void family_request(const table *t, char **row, int want, wg_family_request *req, const char **host) {
  memset(req, 0, sizeof *req);
  req->want = want;
  const char *live = cell(t, row, "live_families");
  int other = want == WG_FAMILY_WAL ? WG_FAMILY_ROLLBACK : WG_FAMILY_WAL;
  req->others_in_other = in_list(live, wg_family_name(other));
  req->agreed = family_of(cell(t, row, "record_family"));
  req->agreed_reason = reason_of(cell(t, row, "record_reason"));
  if (req->agreed_reason < 0) req->agreed_reason = 0;
  req->shares_memory = strcmp(cell(t, row, "shares_memory"), "no") != 0;
  req->header_says_wal = family_of(cell(t, row, "header")) == WG_FAMILY_WAL;
  req->reserved_held = want == WG_FAMILY_WAL && req->header_says_wal && yes(cell(t, row, "reserved_held"));
  req->wal_under_another_name = want == WG_FAMILY_WAL && yes(cell(t, row, "wal_under_another_name"));
  static char first_host[64];
  const char *hosts = cell(t, row, "other_hosts");
  if (*hosts) {
    snprintf(first_host, sizeof first_host, "%.*s", (int)strcspn(hosts, ","), hosts);
    *host = first_host;
    req->other_host_live = first_host;
  }
}

static const char *code_for(const char *call, int reason) {
  int c = wg_reason_class(reason);
  if (c == WG_CLASS_TRANSIENT || c == WG_CLASS_MISMATCH) return "BUSY";
  if (strncmp(call, "open", 4) == 0) return "CANTOPEN";
  if (strcmp(call, "pragma") == 0) return "ERROR";
  return "IOERR";
}

static void test_scenarios(const char *dir) {
  table t;
  if (load_table(dir, "scenarios.tsv", &t)) return;
  for (int i = 0; i < t.nrows; i++) {
    char **row = t.rows[i];
    char id[128], gate[64], call[64];
    snprintf(id, sizeof id, "%s", cell(&t, row, "id"));
    snprintf(gate, sizeof gate, "%s", cell(&t, row, "gate"));
    snprintf(call, sizeof call, "%s", cell(&t, row, "call"));
    wg_policy pol = policy_of(cell(&t, row, "policy"));
    wg_decision d;
    memset(&d, 0, sizeof d);
    int records = -1, passed = 0;
    const char *host = NULL;
    if (strcmp(gate, "protocol") == 0) {
      int others[8], foreign[8];
      int no = list_protocols(cell(&t, row, "live_protocols"), others);
      int nf = strcmp(cell(&t, row, "shares_memory"), "no") == 0 ? 0 : list_protocols(cell(&t, row, "foreign_locks"), foreign);
      wg_admit_protocol(&pol, protocol_of(cell(&t, row, "protocol")), others, no, foreign, nf, &d);
    } else if (strcmp(gate, "family") == 0) {
      wg_family_request req;
      family_request(&t, row, family_of(cell(&t, row, "want")), &req, &host);
      wg_admit_family(&pol, &req, &d);
    } else if (strcmp(gate, "journal_mode") == 0) {
      int to;
      if (strcmp(call, "pragma") == 0) {
        int mode;
        const char *v = cell(&t, row, "pragma");
        if (!*v || !wg_parse_journal_mode(v, &mode)) passed = 1;
        to = wg_mode_family(mode);
      } else {
        to = family_of(cell(&t, row, "want"));
      }
      if (!passed) {
        int hf = family_of(cell(&t, row, "header")), recf = family_of(cell(&t, row, "record_family"));
        int pending = *cell(&t, row, "switch_from") != 0;
        wg_transition_request req;
        memset(&req, 0, sizeof req);
        int leaving;
        wg_switch_facts(to, hf, recf, pending, &req.from, &req.header_says_wal, &leaving);
        req.to = to;
        req.deliberate = yes(cell(&t, row, "operator"));
        req.others_live = *cell(&t, row, "live_protocols") || *cell(&t, row, "live_families");
        if (leaving != WG_FAMILY_UNKNOWN) req.others_in_from = in_list(cell(&t, row, "live_families"), wg_family_name(leaving));
        family_request(&t, row, to, &req.fam, &host);
        req.fam.header_says_wal = hf == WG_FAMILY_WAL;
        wg_transition(&pol, &req, &d);
      }
    } else if (strcmp(gate, "settle") == 0) {
      wg_settle_request req = {
        .cls = class_of(cell(&t, row, "error_class")),
        .lasting = yes(cell(&t, row, "lasting")),
        .header_says_wal = family_of(cell(&t, row, "header")) == WG_FAMILY_WAL ||
                           family_of(cell(&t, row, "record_family")) == WG_FAMILY_WAL,
        .wal_live = in_list(cell(&t, row, "live_families"), "wal"),
      };
      wg_settle(&req, &d);
      if (d.allow) records = WG_R_INCOMPATIBLE;
    } else if (strcmp(gate, "record") == 0) {
      wg_decide_record(&pol, state_of(cell(&t, row, "record_state")), *cell(&t, row, "live_protocols") != 0, &d, &records);
    } else if (strcmp(gate, "header") == 0) {
      const char *sf = cell(&t, row, "switch_from");
      wg_decide_header(&pol, family_of(cell(&t, row, "header")), family_of(cell(&t, row, "record_family")), *sf != 0,
                       family_of(sf), &d, &records);
    } else if (strcmp(gate, "names") == 0) {
      wg_decide_names(&pol, strtoul(cell(&t, row, "nlink"), NULL, 10), &d);
    } else {
      FAIL("scenario %s: unknown gate %s", id, gate);
      continue;
    }
    const char *got = passed ? "pass" : d.allow ? "admit" : "refuse";
    check_eq("scenario decision", id, got, cell(&t, row, "expect"));
    if (!passed && !d.allow) {
      check_eq("scenario reason", id, wg_reason_name(d.reason), cell(&t, row, "reason"));
      if (*call) check_eq("scenario code", id, code_for(call, d.reason), cell(&t, row, "code"));
      checks++;
      if (!d.why[0]) FAIL("scenario %s: a refusal without a sentence", id);
    }
    check_eq("scenario records", id, records >= 0 ? wg_reason_name(records) : "", cell(&t, row, "records"));
  }
  free_table(&t);
}

/* ---- host identities, sidecar names, journal_mode values ---- */

static void test_hostids(const char *dir) {
  table t;
  if (load_table(dir, "hostids.tsv", &t)) return;
  for (int i = 0; i < t.nrows; i++) {
    char **row = t.rows[i];
    size_t hl, ml;
    char host[300], mid[300], got[WG_HOST_FIELD];
    const char *h = cell_len(&t, row, "hostname", &hl);
    memcpy(host, h, hl < sizeof host ? hl : sizeof host);
    const char *m = cell_len(&t, row, "machine_id", &ml);
    memcpy(mid, m, ml < sizeof mid ? ml : sizeof mid);
    wg_compose_identity(host, hl, mid, ml, got);
    char name[128];
    snprintf(name, sizeof name, "%s", cell(&t, row, "case"));
    check_eq("host identity", name, got, cell(&t, row, "identity"));
  }
  free_table(&t);
}

static void test_names(const char *dir) {
  table t;
  if (load_table(dir, "names.tsv", &t)) return;
  for (int i = 0; i < t.nrows; i++) {
    char **row = t.rows[i];
    char db[4096], got[4200];
    snprintf(db, sizeof db, "%s", cell(&t, row, "database"));
    if (wg_sidecar_path(db, got, sizeof got) != 0) got[0] = 0;
    check_eq("sidecar name", db, got, cell(&t, row, "sidecar"));
  }
  free_table(&t);
}

static void test_journal_modes(const char *dir) {
  table t;
  if (load_table(dir, "journal_modes.tsv", &t)) return;
  for (int i = 0; i < t.nrows; i++) {
    char **row = t.rows[i];
    char value[256];
    snprintf(value, sizeof value, "%s", cell(&t, row, "value"));
    int mode;
    int ok = wg_parse_journal_mode(value, &mode);
    check_eq("journal_mode value", value, ok ? wg_mode_name(mode) : "", cell(&t, row, "mode"));
    /* C SQLite passes a query as NULL, so the extension decides every
    ** value that names a mode at the pragma, the empty one (DELETE)
    ** included (testdata/protocol/README.md, journal_modes.tsv). */
    const char *want = value[0] ? cell(&t, row, "gated") : "yes";
    check_eq("journal_mode gated", value, ok ? "yes" : "no", want);
  }
  free_table(&t);
}

/* ---- what the vectors do not cover ---- */

static void test_extras(void) {
  /* CRC-32C of "123456789" is the standard check value. */
  checks++;
  if (wg_crc32c((const uint8_t *)"123456789", 9) != 0xE3069283u) FAIL("crc32c check value");
  /* SHA-256 of "abc" (FIPS 180-4 example), for shortened sidecar names. */
  uint8_t sum[32];
  wg_sha256((const uint8_t *)"abc", 3, sum);
  static const uint8_t abc[4] = {0xba, 0x78, 0x16, 0xbf};
  checks++;
  if (memcmp(sum, abc, 4) != 0) FAIL("sha256 of abc");
  char path[600], name[300];
  memset(name, 'a', 260);
  name[260] = 0;
  char db[400];
  snprintf(db, sizeof db, "/d/%s", name);
  checks++;
  if (wg_sidecar_path(db, path, sizeof path) != 0 || strlen(strrchr(path, '/') + 1) > WG_MAX_NAME_BYTES ||
      !strstr(path, "~") || strcmp(path + strlen(path) - 9, "-walguard") != 0)
    FAIL("shortened sidecar name: %s", path);
  checks++;
  if (wg_sidecar_path("/d/app.db", path, sizeof path) != 0 || strcmp(path, "/d/app.db-walguard") != 0)
    FAIL("sidecar name: %s", path);
  /* garbage never crashes a decoder: every length, every byte value */
  uint8_t junk[WG_RECORD_SIZE];
  for (int seed = 0; seed < 2000; seed++) {
    unsigned x = (unsigned)seed * 2654435761u + 1;
    for (size_t k = 0; k < sizeof junk; k++) {
      x = x * 1103515245u + 12345u;
      junk[k] = (uint8_t)(x >> 16);
    }
    if (seed % 3 == 0) memcpy(junk, "WALGUARD", 8);
    wg_record r;
    wg_slot s;
    wg_decode_record(junk, (size_t)seed % (sizeof junk + 1), &r, NULL, 0);
    wg_decode_slot(junk, (size_t)seed % (WG_SLOT_SIZE + 1), &s, NULL, 0);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: wg_unit testdata/protocol\n");
    return 2;
  }
  test_records(argv[1]);
  test_slots(argv[1]);
  test_files(argv[1]);
  test_scenarios(argv[1]);
  test_hostids(argv[1]);
  test_names(argv[1]);
  test_journal_modes(argv[1]);
  test_extras();
  for (int i = 0; i < g_ntables; i++) free(g_tables[i]);
  printf("wg_unit: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
