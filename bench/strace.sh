#!/usr/bin/env bash
# strace.sh: count the system calls of single-row transactions, point
# reads and opens with and without walguard (strace -c -f), and check that
# walguard adds none per transaction and per read in steady state.
#
# bench/cmd/txnloop repeats one operation N and then 2N times, in WAL
# (synchronous=NORMAL) and in DELETE (synchronous=FULL) mode, on the os
# VFS and on walguard: -op txn commits single-row transactions, -op read
# runs point reads, -op open opens a connection, runs its first read and
# closes it while another connection stays open. (count(2N) - count(N)) / N
# is what one operation costs, without what setting up and tearing down
# cost. Calls the Go runtime makes on its own (futex, nanosleep, mmap,
# signals, getpid, ...) depend on timing, not on the workload: they are
# shown, marked "runtime", and not judged. GOMAXPROCS=1 and GOGC=off keep
# them few.
#
# Per transaction and per read walguard must add nothing (exit status 1 if
# it does). Per open it adds its join; the total of non-runtime calls added
# is printed against the budget of docs/performance.md (10 in WAL, 8 in
# DELETE), not judged in the exit status.
#
# -op firstopen repeats the same with no other connection open, so that
# each open is its process's first and joins in full (a program that opens
# one connection per request and closes it): printed, not judged.
#
# Usage: bench/strace.sh            N=1000 (opens: N/10), databases in /dev/shm
#        N=5000 STRACE_DIR=/tmp OPS="open" bench/strace.sh
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

OPS=${OPS:-txn read open firstopen}
echo "strace -c -f of bench/cmd/txnloop: ops $OPS; N=$N (opens: N/10) and 2N, databases in $DIR"
echo "$(strace -V | head -1); $(go version); kernel $(uname -r)"
status=0
for op in $OPS; do
	n1=$N
	case $op in open | firstopen) n1=$((N / 10)) ;; esac
	for mode in wal delete; do
		for vfs in os walguard; do
			for n in "$n1" "$((2 * n1))"; do
				GOMAXPROCS=1 GOGC=off strace -c -f -o "$OUT/$op-$mode-$vfs-$n.txt" \
					"$OUT/txnloop" -vfs "$vfs" -mode "$mode" -op "$op" -n "$n" -dir "$DIR"
				counts "$OUT/$op-$mode-$vfs-$n.txt" >"$OUT/$op-$mode-$vfs-$n.counts"
			done
		done
		echo
		echo "### op=$op mode=$mode: calls per operation, (count(2N) - count(N)) / N, N=$n1"
		echo
		budget=
		[ "$op" = open ] && budget=$([ "$mode" = wal ] && echo 10 || echo 8)
		[ "$op" = firstopen ] && budget=none
		awk -v n="$n1" -v op="$op" -v mode="$mode" -v budget="$budget" '
			BEGIN {
				split("futex nanosleep clock_nanosleep sched_yield mmap munmap madvise mprotect brk clone clone3 " \
					"rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack tgkill gettid getpid epoll_pwait " \
					"epoll_wait epoll_create1 eventfd2 getrandom", r, " ")
				for (i in r) runtime[r[i]] = 1
			}
			{ split(FILENAME, f, "-"); key = f[3] "/" (f[4] + 0 == n ? "1" : "2"); c[$1, key] = $2; names[$1] = 1 }
			END {
				printf "| system call | os, total at N | walguard, total at N | os per op | walguard per op | added per op |\n"
				printf "|---|---:|---:|---:|---:|---:|\n"
				bad = 0; added = 0
				for (s in names) {
					po = (c[s, "os/2"] - c[s, "os/1"]) / n
					pw = (c[s, "walguard/2"] - c[s, "walguard/1"]) / n
					note = ""
					if (s in runtime) note = " (runtime)"
					else { added += pw - po; if (pw != po) bad = 1 }
					printf "| %s%s | %d | %d | %.3f | %.3f | %+.3f |\n", s, note, c[s, "os/1"], c[s, "walguard/1"], po, pw, pw - po | "sort"
				}
				close("sort")
				printf "\nop=%s mode=%s: walguard adds %+.2f non-runtime system calls per operation", op, mode, added
				if (budget == "none") {
					print " (a process'"'"'s first join: not judged)"
					exit 0
				}
				if (budget != "") {
					printf " (budget %d: %s)\n", budget, added <= budget + 0.005 ? "met" : "NOT met"
					exit 0
				}
				print ""
				if (bad) { print "walguard ADDS system calls per " op " in mode=" mode; exit 1 }
			}' "$OUT/$op-$mode-os-$n1.counts" "$OUT/$op-$mode-os-$((2 * n1)).counts" \
			"$OUT/$op-$mode-walguard-$n1.counts" "$OUT/$op-$mode-walguard-$((2 * n1)).counts" || status=1
	done
done
exit $status
