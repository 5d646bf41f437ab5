#!/usr/bin/env bash
# strace.sh: count the system calls of single-row transactions with and
# without walguard (strace -c -f), and check that walguard adds none per
# transaction in steady state.
#
# bench/cmd/txnloop commits N and then 2N single-row transactions, in WAL
# (synchronous=NORMAL) and in DELETE (synchronous=FULL) mode, on the os
# VFS and on walguard. (count(2N) - count(N)) / N is what one transaction
# costs, without what opening and closing cost. Calls the Go runtime makes
# on its own (futex, nanosleep, mmap, signals, ...) depend on timing, not
# on the workload: they are shown, marked "runtime", and not judged.
# GOMAXPROCS=1 and GOGC=off keep them few.
#
# Usage: bench/strace.sh            N=1000, databases in /dev/shm
#        N=5000 STRACE_DIR=/tmp bench/strace.sh
# Exit status 1 if walguard adds a system call per transaction.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
DIR=${STRACE_DIR:-/dev/shm}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if ! command -v strace >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null
fi

go build -o "$OUT/txnloop" ./bench/cmd/txnloop

# counts FILE: "syscall calls" lines of an strace -c summary.
counts() { awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4 }' "$1"; }

echo "strace -c -f of bench/cmd/txnloop: N=$N and 2N=$((2 * N)) single-row transactions, databases in $DIR"
echo "$(strace -V | head -1); $(go version); kernel $(uname -r)"
status=0
for mode in wal delete; do
	for vfs in os walguard; do
		for n in "$N" "$((2 * N))"; do
			GOMAXPROCS=1 GOGC=off strace -c -f -o "$OUT/$mode-$vfs-$n.txt" \
				"$OUT/txnloop" -vfs "$vfs" -mode "$mode" -n "$n" -dir "$DIR"
			counts "$OUT/$mode-$vfs-$n.txt" >"$OUT/$mode-$vfs-$n.counts"
		done
	done
	echo
	echo "### mode=$mode: calls per transaction, (count(2N) - count(N)) / N"
	echo
	awk -v n="$N" -v mode="$mode" '
		BEGIN {
			split("futex nanosleep clock_nanosleep sched_yield mmap munmap madvise mprotect brk clone clone3 " \
				"rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack tgkill gettid getpid epoll_pwait " \
				"epoll_wait epoll_create1 eventfd2 getrandom", r, " ")
			for (i in r) runtime[r[i]] = 1
		}
		{ split(FILENAME, f, "-"); key = f[2] "/" (f[3] + 0 == n ? "1" : "2"); c[$1, key] = $2; names[$1] = 1 }
		END {
			printf "| system call | os, total at N | walguard, total at N | os per txn | walguard per txn | added per txn |\n"
			printf "|---|---:|---:|---:|---:|---:|\n"
			bad = 0
			for (s in names) {
				po = (c[s, "os/2"] - c[s, "os/1"]) / n
				pw = (c[s, "walguard/2"] - c[s, "walguard/1"]) / n
				note = ""
				if (s in runtime) note = " (runtime)"
				else if (pw != po) bad = 1
				printf "| %s%s | %d | %d | %.3f | %.3f | %+.3f |\n", s, note, c[s, "os/1"], c[s, "walguard/1"], po, pw, pw - po | "sort"
			}
			close("sort")
			if (bad) { print "\nwalguard ADDS system calls per transaction in mode=" mode; exit 1 }
			print "\nmode=" mode ": walguard adds no system call per transaction (runtime calls not judged)"
		}' "$OUT/$mode-os-$N.counts" "$OUT/$mode-os-$((2 * N)).counts" \
		"$OUT/$mode-walguard-$N.counts" "$OUT/$mode-walguard-$((2 * N)).counts" || status=1
done

echo
echo "### raw strace -c -f, mode=wal, vfs=walguard, N=$N"
echo
cat "$OUT/wal-walguard-$N.txt"
exit $status
