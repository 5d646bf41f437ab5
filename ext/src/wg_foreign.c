/*
** wg_foreign.c: the participants without walguard of PRAGMA
** walguard_status ("without_walguard", docs/status.md): the processes that
** hold SQLite's own lock bytes on the database or its -shm and have no
** live walguard slot on this host (python's sqlite3, the sqlite3 CLI, a C
** program), as Go's lockcheck.Foreign lists them (lockcheck/foreign.go,
** proclocks.go, proclocks_linux.go). From Linux's /proc/locks; it only
** reads.
*/
#define _GNU_SOURCE
#include "wg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* One lock of /proc/locks on the database (role 0) or its -shm (role 2,
** as lockcheck orders the files: db, wal, shm). */
typedef struct plock {
  int blocked;
  char kind[8]; /* posix, ofd, flock, or the kernel's word in lower case */
  int write;
  int pid; /* -1 or 0: an OFD lock the kernel does not attribute */
  unsigned major, minor;
  unsigned long long ino;
  long long start, end; /* end -1: to EOF */
  int role;
  int first; /* order of first appearance, for a stable sort */
} plock;

typedef struct fid {
  unsigned major, minor;
  unsigned long long ino;
  int ok;
} fid;

enum { ROLE_DB = 0, ROLE_SHM = 2 };
#define MAX_LOCKS 1024
#define TABLE_READS 3 /* lockcheck.lockTableReads: the median of three reads */

static fid file_id(const char *path) {
  fid f = {0, 0, 0, 0};
  struct stat st;
  if (stat(path, &st) == 0) {
    f.major = major(st.st_dev);
    f.minor = minor(st.st_dev);
    f.ino = (unsigned long long)st.st_ino;
    f.ok = 1;
  }
  return f;
}

static int role_of(const fid *files, unsigned major, unsigned minor, unsigned long long ino) {
  for (int r = 0; r < 2; r++)
    if (files[r].ok && files[r].major == major && files[r].minor == minor && files[r].ino == ino)
      return r == 0 ? ROLE_DB : ROLE_SHM;
  return -1;
}

/* parse_line parses one line of /proc/locks (or a "lock:" line of
** /proc/PID/fdinfo/FD), as lockcheck.parseProcLockLine: 1 if it is one. */
static int parse_line(char *line, plock *l) {
  char *f[10];
  int n = 0;
  for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t && n < 10; t = strtok_r(NULL, " \t\r", &save))
    f[n++] = t;
  int i = 0;
  if (n > 0 && strcmp(f[0], "lock:") == 0) i++;
  if (i >= n || f[i][0] == 0 || f[i][strlen(f[i]) - 1] != ':') return 0;
  i++;
  memset(l, 0, sizeof *l);
  if (i < n && strcmp(f[i], "->") == 0) {
    l->blocked = 1;
    i++;
  }
  if (n - i != 7) return 0;
  const char *k = f[i];
  if (strcmp(k, "POSIX") == 0) k = "posix";
  else if (strcmp(k, "OFDLCK") == 0) k = "ofd";
  else if (strcmp(k, "FLOCK") == 0) k = "flock";
  else if (strcmp(k, "LEASE") == 0 || strcmp(k, "DELEG") == 0) k = "lease";
  snprintf(l->kind, sizeof l->kind, "%s", k);
  for (char *c = l->kind; *c; c++)
    if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
  l->write = strcmp(f[i + 2], "WRITE") == 0;
  char *end;
  long pid = strtol(f[i + 3], &end, 10);
  if (*end) return 0;
  l->pid = (int)pid;
  unsigned long long ino;
  if (sscanf(f[i + 4], "%x:%x:%llu", &l->major, &l->minor, &ino) != 3) return 0;
  l->ino = ino;
  l->start = strtoll(f[i + 5], &end, 10);
  if (*end || l->start < 0) return 0;
  if (strcmp(f[i + 6], "EOF") == 0) {
    l->end = -1;
  } else {
    l->end = strtoll(f[i + 6], &end, 10);
    if (*end || l->end < l->start) return 0;
  }
  return 1;
}

/* read_all reads a whole (/proc) file into a NUL-terminated buffer. */
static char *read_all(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *b = malloc(cap);
  while (b) {
    if (cap - len < 4097) {
      char *nb = realloc(b, cap * 2);
      if (!nb) {
        free(b);
        b = NULL;
        break;
      }
      b = nb;
      cap *= 2;
    }
    ssize_t n = read(fd, b + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  if (b) b[len] = 0;
  return b;
}

/* locks_on parses text and appends the locks on files to out. */
static int locks_on(char *text, const fid *files, plock *out, int max) {
  int n = 0;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
    plock l;
    if (!parse_line(line, &l)) continue;
    l.role = role_of(files, l.major, l.minor, l.ino);
    if (l.role >= 0) out[n++] = l;
  }
  return n;
}

static int same_lock(const plock *a, const plock *b) {
  return a->blocked == b->blocked && strcmp(a->kind, b->kind) == 0 && a->write == b->write && a->pid == b->pid &&
         a->major == b->major && a->minor == b->minor && a->ino == b->ino && a->start == b->start && a->end == b->end;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* median_locks merges several reads of the table (lockcheck.medianLocks):
** every distinct lock as many times as the median read shows it. */
static int median_locks(plock reads[TABLE_READS][MAX_LOCKS], const int *nreads, plock *out, int max) {
  plock *order = malloc(MAX_LOCKS * sizeof *order);
  int(*counts)[TABLE_READS] = calloc(MAX_LOCKS, sizeof *counts);
  int norder = 0;
  if (!order || !counts) {
    free(order);
    free(counts);
    return 0;
  }
  for (int r = 0; r < TABLE_READS; r++) {
    for (int i = 0; i < nreads[r]; i++) {
      int j = 0;
      while (j < norder && !same_lock(&order[j], &reads[r][i])) j++;
      if (j == norder) {
        if (norder == MAX_LOCKS) continue;
        order[norder++] = reads[r][i];
      }
      counts[j][r]++;
    }
  }
  int n = 0;
  for (int j = 0; j < norder; j++) {
    qsort(counts[j], TABLE_READS, sizeof(int), cmp_int);
    for (int k = 0; k < counts[j][TABLE_READS / 2] && n < max; k++) out[n++] = order[j];
  }
  free(order);
  free(counts);
  return n;
}

/* attribute_ofd finds, for each lock without a pid, a process with an open
** file whose /proc/PID/fdinfo lists it (lockcheck.attributeOFDLocks). */
static void attribute_ofd(plock *locks, int n, const fid *files) {
  DIR *proc = opendir("/proc");
  if (!proc) return;
  struct dirent *p;
  while ((p = readdir(proc))) {
    char *end;
    long pid = strtol(p->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/fd", pid);
    DIR *fds = opendir(dir);
    if (!fds) continue;
    struct dirent *fd;
    while ((fd = readdir(fds))) {
      if (fd->d_name[0] == '.') continue;
      char path[320]; /* d_name is at most 255 bytes */
      snprintf(path, sizeof path, "/proc/%ld/fd/%s", pid, fd->d_name);
      fid id = file_id(path);
      if (!id.ok || role_of(files, id.major, id.minor, id.ino) < 0) continue;
      snprintf(path, sizeof path, "/proc/%ld/fdinfo/%s", pid, fd->d_name);
      char *info = read_all(path);
      if (!info) continue;
      for (char *save = NULL, *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        plock held;
        if (!parse_line(line, &held)) continue;
        for (int i = 0; i < n; i++) {
          plock *l = &locks[i];
          if (l->pid <= 0 && l->major == held.major && l->minor == held.minor && l->ino == held.ino &&
              strcmp(l->kind, held.kind) == 0 && l->write == held.write && l->start == held.start &&
              l->end == held.end && l->blocked == held.blocked) {
            l->pid = (int)pid;
            break;
          }
        }
      }
      free(info);
    }
    closedir(fds);
  }
  closedir(proc);
}

/* A named lock region, as SQLite's sources name it (lockcheck.regionsOf). */
typedef struct region {
  long long lo, hi;
  const char *name;
} region;

#define PENDING 0x40000000LL
static const region db_regions[] = {
    {PENDING, PENDING, "PENDING"}, {PENDING + 1, PENDING + 1, "RESERVED"}, {PENDING + 2, PENDING + 511, "SHARED"}};
static const region shm_regions[] = {{120, 120, "WRITE"}, {121, 121, "CHECKPOINT"}, {122, 122, "RECOVER"},
                                     {123, 123, "READ0"}, {124, 124, "READ1"},      {125, 125, "READ2"},
                                     {126, 126, "READ3"}, {127, 127, "READ4"},      {128, 128, "DMS"}};

/* range_name names [start, end] of a lock on a file of role as
** lockcheck.RangeName does (the mirror's bytes never reach here). */
static void range_name(int role, long long start, long long end, int write, char *out, size_t n) {
  if (start == 0 && end < 0) {
    snprintf(out, n, "whole file");
    return;
  }
  const region *r = role == ROLE_DB ? db_regions : shm_regions;
  int nr = role == ROLE_DB ? 3 : 9;
  const char *names[9];
  int k = 0;
  for (int i = 0; i < nr; i++) {
    if (r[i].hi < start || (end >= 0 && r[i].lo > end)) continue;
    if (role == ROLE_DB && write && strcmp(r[i].name, "SHARED") == 0) {
      snprintf(out, n, "EXCLUSIVE");
      return;
    }
    names[k++] = r[i].name;
  }
  if (k == 0) {
    if (end < 0) snprintf(out, n, "bytes %lld-EOF", start);
    else if (start == end) snprintf(out, n, "bytes %lld", start);
    else snprintf(out, n, "bytes %lld-%lld", start, end);
  } else if (k > 3) {
    snprintf(out, n, "%s..%s (%d locks)", names[0], names[k - 1], k);
  } else {
    out[0] = 0;
    for (int i = 0; i < k; i++) {
      size_t l = strlen(out);
      snprintf(out + l, n - l, "%s%s", i ? "+" : "", names[i]);
    }
  }
}

static int cmp_lock(const void *pa, const void *pb) {
  const plock *a = pa, *b = pb;
  if (a->role != b->role) return a->role < b->role ? -1 : 1;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  int ap = a->pid > 0 ? a->pid : 0, bp = b->pid > 0 ? b->pid : 0;
  if (ap != bp) return ap < bp ? -1 : 1;
  return a->first - b->first;
}

static void command_of(int pid, char *out, size_t n) {
  out[0] = 0;
  if (pid <= 0) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t r = read(fd, out, n - 1);
  close(fd);
  if (r < 0) r = 0;
  out[r] = 0;
  while (r > 0 && (out[r - 1] == '\n' || out[r - 1] == ' ')) out[--r] = 0;
}

int wg_foreign_list(const char *db, const uint32_t *wg_pids, int nwg, int ofd_participant, wg_foreign *out, int max) {
  size_t dl = strlen(db);
  char *shm = malloc(dl + 5);
  if (!shm) return -ENOMEM;
  memcpy(shm, db, dl);
  memcpy(shm + dl, "-shm", 5);
  fid files[2] = {file_id(db), file_id(shm)};
  free(shm);
  if (!files[0].ok && !files[1].ok) return 0;
  plock(*reads)[MAX_LOCKS] = calloc(TABLE_READS, sizeof *reads);
  plock *locks = calloc(MAX_LOCKS, sizeof *locks);
  int nreads[TABLE_READS], n = 0, rc = 0;
  if (!reads || !locks) {
    rc = -ENOMEM;
    goto out;
  }
  for (int r = 0; r < TABLE_READS; r++) {
    char *text = read_all("/proc/locks");
    if (!text) {
      rc = errno ? -errno : -EIO;
      goto out;
    }
    nreads[r] = locks_on(text, files, reads[r], MAX_LOCKS);
    free(text);
  }
  n = median_locks(reads, nreads, locks, MAX_LOCKS);
  for (int i = 0; i < n; i++) {
    if (locks[i].pid <= 0) {
      attribute_ofd(locks, n, files);
      break;
    }
  }
  for (int i = 0; i < n; i++) locks[i].first = i;
  qsort(locks, (size_t)n, sizeof *locks, cmp_lock);
  for (int i = 0; i < n; i++) {
    const plock *l = &locks[i];
    int pid = l->pid > 0 ? l->pid : 0;
    if (l->blocked || strcmp(l->kind, "lease") == 0 || l->start >= WG_MIRROR_BASE) continue;
    if (pid == 0 && ofd_participant) continue;
    int ours = 0;
    for (int j = 0; j < nwg && !ours; j++) ours = pid > 0 && wg_pids[j] == (uint32_t)pid;
    if (ours) continue;
    /* One entry per process (per kind where the kernel names none). */
    int f = 0;
    while (f < rc && !(out[f].pid == pid && (pid != 0 || strcmp(out[f].protocol, l->kind) == 0))) f++;
    if (f == rc) {
      if (rc == max) continue;
      memset(&out[f], 0, sizeof out[f]);
      out[f].pid = pid;
      command_of(pid, out[f].command, sizeof out[f].command);
      snprintf(out[f].protocol, sizeof out[f].protocol, "%s", l->kind);
      rc++;
    }
    /* The database's lock says the protocol: ncruces's flock build takes
    ** POSIX locks on the -shm. */
    if (l->role == ROLE_DB) snprintf(out[f].protocol, sizeof out[f].protocol, "%s", l->kind);
    char name[WG_FOREIGN_LOCK_NAME - 8], lock[WG_FOREIGN_LOCK_NAME];
    range_name(l->role, l->start, l->end, l->write, name, sizeof name);
    snprintf(lock, sizeof lock, "%s %s", l->role == ROLE_DB ? "db" : "shm", name);
    int seen = 0;
    for (int k = 0; k < out[f].nlocks && !seen; k++) seen = strcmp(out[f].locks[k], lock) == 0;
    if (!seen && out[f].nlocks < WG_FOREIGN_LOCKS) memcpy(out[f].locks[out[f].nlocks++], lock, sizeof lock);
  }
out:
  free(reads);
  free(locks);
  return rc;
}
