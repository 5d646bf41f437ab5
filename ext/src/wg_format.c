/*
** wg_format.c: the sidecar's bytes (sidecar/record.go, slot.go, name.go):
** CRC-32C, the record and slot entries, the sidecar's name. Pure: no I/O.
**
** Every entry is verified in the Go order: all zero (never written),
** truncated, magic, CRC-32C, then version, then fields. The checksum comes
** before the version, so a torn version reads as torn (rebuilt) and never
** as "written by a newer walguard" (refused for good).
*/
#define _GNU_SOURCE
#include "wg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ---- */

static uint32_t crc_table[256];
static int crc_ready;

/* wg_crc32c returns the CRC-32C of p[0..n), as Go's crc32.Checksum with the
** Castagnoli table. The table is built on first use; the build is
** idempotent, so racing first callers compute the same bytes. */
uint32_t wg_crc32c(const uint8_t *p, size_t n) {
  if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE)) {
    static uint32_t t[256];
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    memcpy(crc_table, t, sizeof t);
    __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
  }
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/* ---- big-endian integers ---- */

static void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static void put32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void put64(uint8_t *b, uint64_t v) {
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
}
static uint16_t get16(const uint8_t *b) { return (uint16_t)((b[0] << 8) | b[1]); }
static uint32_t get32(const uint8_t *b) {
  return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}
static uint64_t get64(const uint8_t *b) { return ((uint64_t)get32(b) << 32) | get32(b + 4); }

static int all_zero(const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (b[i]) return 0;
  return 1;
}

/* ---- UTF-8, as Go's utf8 package sees it ---- */

/* utf8_len returns the length of the valid UTF-8 sequence at s (at most n
** bytes), or 0 if it is not one (overlong, surrogate, past U+10FFFF). */
static size_t utf8_len(const uint8_t *s, size_t n) {
  uint8_t c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t min, cp;
  if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; cp = c & 0x07; }
  else return 0;
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

static int utf8_valid(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t l = utf8_len(s + i, n - i);
    if (!l) return 0;
    i += l;
  }
  return 1;
}

/* put_text stores s in a NUL-padded field of n bytes as Go's putText does:
** cut at NUL, invalid UTF-8 runs replaced by U+FFFD, at most n-1 bytes
** kept, cut at a rune boundary. */
static void put_text(uint8_t *field, size_t n, const char *s) {
  memset(field, 0, n);
  if (!s) return;
  const uint8_t *p = (const uint8_t *)s;
  size_t len = strlen(s), out = 0, max = n - 1;
  int in_bad = 0;
  for (size_t i = 0; i < len;) {
    size_t l = utf8_len(p + i, len - i);
    if (!l) {
      if (!in_bad) {
        if (out + 3 > max) return;
        field[out++] = 0xEF; field[out++] = 0xBF; field[out++] = 0xBD;
        in_bad = 1;
      }
      i++;
      continue;
    }
    in_bad = 0;
    if (out + l > max) return;
    memcpy(field + out, p + i, l);
    out += l;
    i += l;
  }
}

/* get_text reads a field put_text wrote, refusing anything it would not
** write. */
static int get_text(const uint8_t *field, size_t n, char *out, const char *what, char *why, size_t whylen) {
  const uint8_t *nul = memchr(field, 0, n);
  if (!nul) {
    snprintf(why, whylen, "%s: invalid field value: text fills its %zu-byte field with no NUL", what, n);
    return WG_ERR_INVALID;
  }
  size_t len = (size_t)(nul - field);
  if (!all_zero(nul, n - len)) {
    snprintf(why, whylen, "%s: invalid field value: bytes after the NUL padding", what);
    return WG_ERR_INVALID;
  }
  if (!utf8_valid(field, len)) {
    snprintf(why, whylen, "%s: invalid field value: text is not UTF-8", what);
    return WG_ERR_INVALID;
  }
  memcpy(out, field, len);
  out[len] = 0;
  return WG_OK;
}

/* wg_copy_text copies src into dst as a C string, cut at a rune boundary. */
void wg_copy_text(char *dst, size_t dstlen, const char *src) {
  uint8_t tmp[256];
  size_t n = dstlen < sizeof tmp ? dstlen : sizeof tmp;
  put_text(tmp, n, src);
  memcpy(dst, tmp, n);
  dst[n - 1] = 0;
}

/* ---- the record (record.go) ---- */

enum {
  REC_MAGIC = 0, REC_VERSION = 8, REC_LENGTH = 10, REC_SLOTS = 12, REC_FLAGS = 14,
  REC_GENERATION = 16, REC_FAMILY = 24, REC_MODE = 25, REC_PROTOCOL = 26, REC_REASON = 27,
  REC_PID = 28, REC_SET_AT = 32, REC_HOST = 40, REC_PROGRAM = 88, REC_DETAIL = 136,
  REC_SWITCH_FROM = 248, REC_SWITCH_SLOT = 249, REC_RESERVED = 250, REC_CHECKSUM = 252,
  REC_FLAG_SWITCH = 1
};
static const char record_magic[8] = {'W', 'A', 'L', 'G', 'U', 'A', 'R', 'D'};

static int v1_reason(int r) { return r != WG_R_OPERATOR && r != WG_R_RECOVERED; }

static uint16_t record_min_version(const wg_record *r) {
  return (r->switch_pending || !v1_reason(r->reason)) ? 2 : 1;
}

/* wg_encode_record writes the record's 256 bytes, in the lowest version
** that holds it (or r->version when that is higher and known), as Go's
** EncodeRecord. */
void wg_encode_record(const wg_record *r, uint8_t b[WG_RECORD_SIZE]) {
  memset(b, 0, WG_RECORD_SIZE);
  memcpy(b + REC_MAGIC, record_magic, 8);
  uint16_t v = record_min_version(r);
  if (r->version > v && r->version <= WG_RECORD_VERSION) v = r->version;
  put16(b + REC_VERSION, v);
  put16(b + REC_LENGTH, WG_RECORD_SIZE);
  put16(b + REC_SLOTS, WG_MAX_SLOTS);
  if (r->switch_pending) {
    put16(b + REC_FLAGS, REC_FLAG_SWITCH);
    b[REC_SWITCH_FROM] = r->switch_from;
    b[REC_SWITCH_SLOT] = r->switch_slot;
  }
  put64(b + REC_GENERATION, r->generation);
  b[REC_FAMILY] = r->family;
  b[REC_MODE] = r->mode;
  b[REC_PROTOCOL] = r->protocol;
  b[REC_REASON] = r->reason;
  put32(b + REC_PID, r->setter_pid);
  put64(b + REC_SET_AT, (uint64_t)r->set_at_ns);
  put_text(b + REC_HOST, WG_HOST_FIELD, r->host);
  put_text(b + REC_PROGRAM, WG_PROGRAM_FIELD, r->program);
  put_text(b + REC_DETAIL, WG_DETAIL_FIELD, r->detail);
  put32(b + REC_CHECKSUM, wg_crc32c(b, REC_CHECKSUM));
}

/* verify_frame checks what every entry has, in order: zero bytes, size,
** magic, CRC-32C in the last four bytes, version right after the magic. */
static int verify_frame(const uint8_t *b, size_t n, size_t size, const char *magic, size_t mlen,
                        uint16_t version, const char *what, char *why, size_t whylen) {
  if (all_zero(b, n)) {
    snprintf(why, whylen, "%s: nothing written yet", what);
    return WG_ERR_NO_RECORD;
  }
  if (n < size) {
    snprintf(why, whylen, "%s: truncated: %zu bytes, want %zu", what, n, size);
    return WG_ERR_TRUNCATED;
  }
  if (memcmp(b, magic, mlen) != 0) {
    snprintf(why, whylen, "%s: bad magic, not a walguard sidecar", what);
    return WG_ERR_NOT_SIDECAR;
  }
  uint32_t stored = get32(b + size - 4), sum = wg_crc32c(b, size - 4);
  if (stored != sum) {
    snprintf(why, whylen, "%s: checksum mismatch, torn or garbage data: stored crc32c 0x%08x, computed 0x%08x",
             what, stored, sum);
    return WG_ERR_CHECKSUM;
  }
  uint16_t v = get16(b + mlen);
  if (v == 0 || v > version) {
    snprintf(why, whylen, "%s: unsupported format version: version %u, this walguard reads 1 to %u", what, v,
             version);
    return WG_ERR_VERSION;
  }
  return WG_OK;
}

static int known_family(int f) { return f >= 0 && f <= 2; }
static int known_mode(int m) { return m >= 0 && m <= 6; }
static int known_protocol(int p) { return p >= 0 && p < WG_NUM_PROTOCOLS; }

static int validate_enums(const char *what, int f, int m, int p, char *why, size_t whylen) {
  if (!known_family(f)) snprintf(why, whylen, "%s: invalid field value: family %d", what, f);
  else if (!known_mode(m)) snprintf(why, whylen, "%s: invalid field value: journal mode %d", what, m);
  else if (!known_protocol(p)) snprintf(why, whylen, "%s: invalid field value: protocol %d", what, p);
  else return WG_OK;
  return WG_ERR_INVALID;
}

/* wg_decode_record verifies and decodes a record from b[0..n) (only the
** first 256 bytes are read). It returns WG_OK or a WG_ERR_* and says why. */
int wg_decode_record(const uint8_t *b, size_t n, wg_record *r, char *why, size_t whylen) {
  char dummy[8];
  if (!why) { why = dummy; whylen = sizeof dummy; }
  if (n > WG_RECORD_SIZE) n = WG_RECORD_SIZE;
  memset(r, 0, sizeof *r);
  int rc = verify_frame(b, n, WG_RECORD_SIZE, record_magic, 8, WG_RECORD_VERSION, "record", why, whylen);
  if (rc) return rc;
  r->version = get16(b + REC_VERSION);
  if (get16(b + REC_LENGTH) != WG_RECORD_SIZE) {
    snprintf(why, whylen, "record: unsupported format version: length field %u, version %u uses %d",
             get16(b + REC_LENGTH), r->version, WG_RECORD_SIZE);
    return WG_ERR_VERSION;
  }
  if (get16(b + REC_SLOTS) != WG_MAX_SLOTS) {
    snprintf(why, whylen, "record: unsupported format version: slot count %u, version %u uses %d",
             get16(b + REC_SLOTS), r->version, WG_MAX_SLOTS);
    return WG_ERR_VERSION;
  }
  uint16_t flags = get16(b + REC_FLAGS), known = r->version >= 2 ? REC_FLAG_SWITCH : 0;
  if (flags & ~known) {
    snprintf(why, whylen, "record: invalid field value: reserved flags 0x%04x", flags);
    return WG_ERR_INVALID;
  }
  if (!all_zero(b + REC_RESERVED, REC_CHECKSUM - REC_RESERVED)) {
    snprintf(why, whylen, "record: invalid field value: reserved bytes %02x%02x", b[REC_RESERVED], b[REC_RESERVED + 1]);
    return WG_ERR_INVALID;
  }
  if (flags & REC_FLAG_SWITCH) {
    r->switch_pending = 1;
    r->switch_from = b[REC_SWITCH_FROM];
    r->switch_slot = b[REC_SWITCH_SLOT];
  } else if (!all_zero(b + REC_SWITCH_FROM, REC_RESERVED - REC_SWITCH_FROM)) {
    snprintf(why, whylen, "record: invalid field value: switch intent bytes %02x%02x without the flag",
             b[REC_SWITCH_FROM], b[REC_SWITCH_SLOT]);
    return WG_ERR_INVALID;
  }
  r->generation = get64(b + REC_GENERATION);
  r->family = b[REC_FAMILY];
  r->mode = b[REC_MODE];
  r->protocol = b[REC_PROTOCOL];
  r->reason = b[REC_REASON];
  r->setter_pid = get32(b + REC_PID);
  r->set_at_ns = (int64_t)get64(b + REC_SET_AT);
  if ((rc = get_text(b + REC_HOST, WG_HOST_FIELD, r->host, "record host", why, whylen))) return rc;
  if ((rc = get_text(b + REC_PROGRAM, WG_PROGRAM_FIELD, r->program, "record program", why, whylen))) return rc;
  if ((rc = get_text(b + REC_DETAIL, WG_DETAIL_FIELD, r->detail, "record detail", why, whylen))) return rc;
  if ((rc = validate_enums("record", r->family, r->mode, r->protocol, why, whylen))) return rc;
  if (!wg_known_reason(r->reason)) {
    snprintf(why, whylen, "record: invalid field value: reason %d", r->reason);
    return WG_ERR_INVALID;
  }
  if (r->mode != WG_MODE_UNKNOWN && wg_mode_family(r->mode) != r->family) {
    snprintf(why, whylen, "record: invalid field value: mode %s belongs to family %s, record says %s",
             wg_mode_name(r->mode), wg_family_name(wg_mode_family(r->mode)), wg_family_name(r->family));
    return WG_ERR_INVALID;
  }
  if (r->switch_pending) {
    if (r->switch_from == WG_FAMILY_UNKNOWN || !known_family(r->switch_from) || r->switch_from == r->family ||
        r->family == WG_FAMILY_UNKNOWN) {
      snprintf(why, whylen, "record: invalid field value: switch intent from %d to %s", r->switch_from,
               wg_family_name(r->family));
      return WG_ERR_INVALID;
    }
    if (r->switch_slot >= WG_MAX_SLOTS) {
      snprintf(why, whylen, "record: invalid field value: switch intent slot %d", r->switch_slot);
      return WG_ERR_INVALID;
    }
  }
  if (r->version < record_min_version(r)) {
    snprintf(why, whylen, "record: invalid field value: reason %d is not defined in version %u", r->reason,
             r->version);
    return WG_ERR_INVALID;
  }
  return WG_OK;
}

/* ---- the slot entry (slot.go) ---- */

enum {
  SLOT_MAGIC = 0, SLOT_VERSION = 4, SLOT_PROTOCOL = 6, SLOT_FAMILY = 7, SLOT_MODE = 8, SLOT_FLAGS = 9,
  SLOT_RESERVED = 10, SLOT_PID = 12, SLOT_SINCE = 16, SLOT_HOST = 24, SLOT_PROGRAM = 72, SLOT_PADDING = 120,
  SLOT_CHECKSUM = 124, SLOT_FLAG_READ_ONLY = 1
};
static const char slot_magic[4] = {'W', 'G', 'S', 'L'};

/* wg_encode_slot writes a slot entry's 128 bytes, as Go's EncodeSlot. */
void wg_encode_slot(const wg_slot *s, uint8_t b[WG_SLOT_SIZE]) {
  memset(b, 0, WG_SLOT_SIZE);
  memcpy(b + SLOT_MAGIC, slot_magic, 4);
  put16(b + SLOT_VERSION, WG_SLOT_VERSION);
  b[SLOT_PROTOCOL] = s->protocol;
  b[SLOT_FAMILY] = s->family;
  b[SLOT_MODE] = s->mode;
  if (s->read_only) b[SLOT_FLAGS] |= SLOT_FLAG_READ_ONLY;
  put32(b + SLOT_PID, s->pid);
  put64(b + SLOT_SINCE, (uint64_t)s->since_ns);
  put_text(b + SLOT_HOST, SLOT_PROGRAM - SLOT_HOST, s->host);
  put_text(b + SLOT_PROGRAM, SLOT_PADDING - SLOT_PROGRAM, s->program);
  put32(b + SLOT_CHECKSUM, wg_crc32c(b, SLOT_CHECKSUM));
}

/* wg_decode_slot verifies and decodes a slot entry, as Go's DecodeSlot. */
int wg_decode_slot(const uint8_t *b, size_t n, wg_slot *s, char *why, size_t whylen) {
  char dummy[8];
  if (!why) { why = dummy; whylen = sizeof dummy; }
  if (n > WG_SLOT_SIZE) n = WG_SLOT_SIZE;
  memset(s, 0, sizeof *s);
  int rc = verify_frame(b, n, WG_SLOT_SIZE, slot_magic, 4, WG_SLOT_VERSION, "slot", why, whylen);
  if (rc) return rc;
  uint8_t flags = b[SLOT_FLAGS];
  if (flags & ~SLOT_FLAG_READ_ONLY) {
    snprintf(why, whylen, "slot: invalid field value: reserved flags 0x%02x", flags);
    return WG_ERR_INVALID;
  }
  if (!all_zero(b + SLOT_RESERVED, SLOT_PID - SLOT_RESERVED) ||
      !all_zero(b + SLOT_PADDING, SLOT_CHECKSUM - SLOT_PADDING)) {
    snprintf(why, whylen, "slot: invalid field value: reserved bytes not zero");
    return WG_ERR_INVALID;
  }
  s->pid = get32(b + SLOT_PID);
  s->protocol = b[SLOT_PROTOCOL];
  s->family = b[SLOT_FAMILY];
  s->mode = b[SLOT_MODE];
  s->read_only = (flags & SLOT_FLAG_READ_ONLY) != 0;
  s->since_ns = (int64_t)get64(b + SLOT_SINCE);
  if ((rc = get_text(b + SLOT_HOST, SLOT_PROGRAM - SLOT_HOST, s->host, "slot host", why, whylen))) return rc;
  if ((rc = get_text(b + SLOT_PROGRAM, SLOT_PADDING - SLOT_PROGRAM, s->program, "slot program", why, whylen)))
    return rc;
  return validate_enums("slot", s->family, s->mode, s->protocol, why, whylen);
}

const char *wg_decode_error_text(int err) {
  switch (err) {
    case WG_OK: return "ok";
    case WG_ERR_NO_RECORD: return "nothing written yet";
    case WG_ERR_TRUNCATED: return "truncated";
    case WG_ERR_NOT_SIDECAR: return "bad magic, not a walguard sidecar";
    case WG_ERR_CHECKSUM: return "checksum mismatch, torn or garbage data";
    case WG_ERR_VERSION: return "unsupported format version";
    case WG_ERR_INVALID: return "invalid field value";
  }
  return "unknown error";
}

/* ---- SHA-256 (FIPS 180-4), for shortened sidecar names only ---- */

static const uint32_t sha_k[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = get32(p + 4 * i);
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void wg_sha256(const uint8_t *p, size_t n, uint8_t out[32]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) sha_block(h, p + i);
  uint8_t tail[128] = {0};
  size_t rest = n - i;
  memcpy(tail, p + i, rest);
  tail[rest] = 0x80;
  size_t tlen = rest + 9 <= 64 ? 64 : 128;
  put64(tail + tlen - 8, (uint64_t)n * 8);
  sha_block(h, tail);
  if (tlen == 128) sha_block(h, tail + 64);
  for (int k = 0; k < 8; k++) put32(out + 4 * k, h[k]);
}

/* wg_sidecar_path writes the sidecar's path for the database at db, as
** Go's SidecarPath: db + "-walguard", or for a name of 247 bytes or more
** the first 200 bytes of the name (at a rune boundary), "~", 16 hex digits
** of the SHA-256 of the name, and the suffix. Returns 0, or -1 if out is
** too small. */
int wg_sidecar_path(const char *db, char *out, size_t outlen) {
  const char *slash = strrchr(db, '/');
  const char *base = slash ? slash + 1 : db;
  size_t blen = strlen(base), dlen = (size_t)(base - db), slen = strlen(WG_SIDECAR_SUFFIX);
  if (blen + slen <= WG_MAX_NAME_BYTES) {
    int n = snprintf(out, outlen, "%s%s", db, WG_SIDECAR_SUFFIX);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
  }
  uint8_t sum[32];
  wg_sha256((const uint8_t *)base, blen, sum);
  size_t plen = WG_SHORT_NAME_PREFIX;
  while (plen > 0 && !utf8_valid((const uint8_t *)base, plen)) plen--;
  size_t need = dlen + plen + 1 + 16 + slen + 1;
  if (need > outlen) return -1;
  memcpy(out, db, dlen + plen);
  char *o = out + dlen + plen;
  *o++ = '~';
  for (int i = 0; i < 8; i++) o += sprintf(o, "%02x", sum[i]);
  strcpy(o, WG_SIDECAR_SUFFIX);
  return 0;
}

/* wg_format_time writes ns as Go's RFC3339Nano in UTC (trailing zeros of
** the fraction dropped); an empty string for 0. */
int wg_format_time(int64_t ns, char *out, size_t outlen) {
  if (ns == 0) { if (outlen) out[0] = 0; return 0; }
  int64_t sec = ns / 1000000000, frac = ns % 1000000000;
  if (frac < 0) { frac += 1000000000; sec--; }
  time_t t = (time_t)sec;
  struct tm tm;
  if (!gmtime_r(&t, &tm)) { if (outlen) out[0] = 0; return -1; }
  char fr[16] = "";
  if (frac) {
    snprintf(fr, sizeof fr, ".%09lld", (long long)frac);
    for (size_t l = strlen(fr); l > 1 && fr[l - 1] == '0'; l--) fr[l - 1] = 0;
  }
  snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, fr);
  return 0;
}

/* ---- JSON, as Go's encoding/json writes it (docs/status.md) ---- */

/* wg_buf_* append to a fixed buffer, counting what did not fit. */
void wg_buf_add(wg_buf *b, const char *s, size_t n) {
  if (b->len < b->cap) {
    size_t room = b->cap - b->len - 1, k = n < room ? n : room;
    memcpy(b->p + b->len, s, k);
    b->p[b->len + k] = 0;
  }
  b->len += n;
  if (b->len >= b->cap && b->cap) b->p[b->cap - 1] = 0;
}

void wg_buf_str(wg_buf *b, const char *s) { wg_buf_add(b, s, strlen(s)); }

/* wg_buf_json_string appends s as a JSON string: quotes, backslash and the
** control characters escaped as Go does (\b \f \n \r \t, others \u00xx),
** and <, >, &, U+2028, U+2029 as \u escapes (Go's HTML-safe default). */
void wg_buf_json_string(wg_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  wg_buf_add(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    switch (*p) {
      case '"': wg_buf_add(b, "\\\"", 2); continue;
      case '\\': wg_buf_add(b, "\\\\", 2); continue;
      case '\b': wg_buf_add(b, "\\b", 2); continue;
      case '\f': wg_buf_add(b, "\\f", 2); continue;
      case '\n': wg_buf_add(b, "\\n", 2); continue;
      case '\r': wg_buf_add(b, "\\r", 2); continue;
      case '\t': wg_buf_add(b, "\\t", 2); continue;
      case '<': case '>': case '&':
        esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
        esc[4] = hex[*p >> 4]; esc[5] = hex[*p & 15];
        wg_buf_add(b, esc, 6);
        continue;
    }
    if (*p < 0x20) {
      esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
      esc[4] = hex[*p >> 4]; esc[5] = hex[*p & 15];
      wg_buf_add(b, esc, 6);
    } else if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
      wg_buf_str(b, p[2] == 0xA8 ? "\\u2028" : "\\u2029");
      p += 2;
    } else {
      wg_buf_add(b, (const char *)p, 1);
    }
  }
  wg_buf_add(b, "\"", 1);
}

static void buf_time(wg_buf *b, const char *key, int64_t ns) {
  if (!ns) return;
  char t[48];
  wg_format_time(ns, t, sizeof t);
  wg_buf_str(b, ",\"");
  wg_buf_str(b, key);
  wg_buf_str(b, "\":");
  wg_buf_json_string(b, t);
}

/* wg_buf_record_json appends the record's JSON form (Go's Record.MarshalJSON). */
void wg_buf_record_json(wg_buf *b, const wg_record *r) {
  char num[160];
  snprintf(num, sizeof num, "{\"version\":%u,\"generation\":%llu,\"family\":\"%s\",\"mode\":\"%s\",\"protocol\":\"%s\",\"reason\":",
           r->version, (unsigned long long)r->generation, wg_family_name(r->family), wg_mode_name(r->mode),
           wg_protocol_name(r->protocol));
  wg_buf_str(b, num);
  wg_buf_json_string(b, wg_reason_name(r->reason));
  snprintf(num, sizeof num, ",\"setter_pid\":%u", r->setter_pid);
  wg_buf_str(b, num);
  buf_time(b, "set_at", r->set_at_ns);
  wg_buf_str(b, ",\"host\":");
  wg_buf_json_string(b, r->host);
  wg_buf_str(b, ",\"program\":");
  wg_buf_json_string(b, r->program);
  wg_buf_str(b, ",\"detail\":");
  wg_buf_json_string(b, r->detail);
  if (r->switch_pending) {
    snprintf(num, sizeof num, ",\"switch\":{\"from\":\"%s\",\"to\":\"%s\",\"slot\":%d}", wg_family_name(r->switch_from),
             wg_family_name(r->family), r->switch_slot);
    wg_buf_str(b, num);
  }
  wg_buf_str(b, "}");
}

/* wg_buf_slot_json appends the slot entry's JSON form (Go's Slot.MarshalJSON). */
void wg_buf_slot_json(wg_buf *b, const wg_slot *e) {
  char num[160];
  snprintf(num, sizeof num, "{\"pid\":%u,\"protocol\":\"%s\",\"family\":\"%s\",\"mode\":\"%s\",\"read_only\":%s", e->pid,
           wg_protocol_name(e->protocol), wg_family_name(e->family), wg_mode_name(e->mode),
           e->read_only ? "true" : "false");
  wg_buf_str(b, num);
  buf_time(b, "since", e->since_ns);
  wg_buf_str(b, ",\"host\":");
  wg_buf_json_string(b, e->host);
  wg_buf_str(b, ",\"program\":");
  wg_buf_json_string(b, e->program);
  wg_buf_str(b, "}");
}

void wg_textf(char *out, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, n, fmt, ap);
  va_end(ap);
}

/* ---- the host identity (internal/hostid) ---- */

static int ascii_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* trim returns s[0..*n) without leading and trailing ASCII white space. */
static const char *trim(const char *s, size_t *n) {
  while (*n > 0 && ascii_space((unsigned char)s[0])) s++, (*n)--;
  while (*n > 0 && ascii_space((unsigned char)s[*n - 1])) (*n)--;
  return s;
}

void wg_compose_identity(const char *host, size_t hostlen, const char *mid, size_t midlen, char out[WG_HOST_FIELD]) {
  char suffix[10] = "";
  mid = trim(mid, &midlen);
  if (midlen >= 8) {
    int hex = 1;
    char id[9];
    for (int i = 0; i < 8; i++) {
      char c = mid[i];
      if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) hex = 0;
      id[i] = c;
    }
    id[8] = 0;
    if (hex) snprintf(suffix, sizeof suffix, "/%s", id);
  }
  host = trim(host, &hostlen);
  char name[WG_HOST_FIELD];
  size_t limit = (WG_HOST_FIELD - 1) - strlen(suffix), k = 0;
  for (; k < hostlen && k < limit; k++) {
    unsigned char c = (unsigned char)host[k];
    name[k] = (c <= ' ' || c > '~' || c == '/') ? '_' : (char)c;
  }
  name[k] = 0;
  if (k == 0) snprintf(name, sizeof name, "unknown");
  wg_textf(out, WG_HOST_FIELD, "%s%s", name, suffix); /* name was cut to leave room for suffix */
}
