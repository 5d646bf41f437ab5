#!/usr/bin/env bash
# bench/ext_bench.sh [ROUNDS]: libwalguard (ext/) against SQLite's plain
# unix VFS, from C and from Python (Debian's python3), in one run: one-row
# write transactions in WAL (synchronous=NORMAL), point reads, and
# open + first read + close. Each prints the median round per VFS and the
# ratio walguard/plain; the two VFSes alternate round by round. Results go
# in docs/performance.md ("libwalguard").
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -O2 -fPIC -shared -o "$tmp/libwalguard.so" ext/src/*.c -lpthread
cc -std=c11 -O2 -o "$tmp/wg_bench" ext/test/wg_bench.c -lsqlite3
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "SQLite $(sqlite3 --version | cut -d' ' -f1), $(cc --version | head -1), $(/usr/bin/python3 --version)"
mkdir "$tmp/c" "$tmp/py"
"$tmp/wg_bench" "$tmp/libwalguard" "$tmp/c" "$rounds"
/usr/bin/python3 ext/test/wg_bench.py "$tmp/libwalguard" "$tmp/py" "$rounds"
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
