#!/usr/bin/env bash
# run.sh: run the benchmark suite as interleaved runs and print the
# walguard/os ratios with confidence intervals (benchstat -col /vfs).
#
# Each of the N runs is one -count=1 pass over every benchmark, so that
# drift on a shared machine (other jobs, page cache, CPU frequency) spreads
# over both VFSes instead of landing on one; odd runs put vfs=walguard
# before vfs=os. CPU-bound databases live on tmpfs (WALGUARD_BENCH_DIR,
# default /dev/shm), fsync-bound ones on a real disk (WALGUARD_BENCH_SYNC_DIR,
# default a new directory under /var/tmp).
#
# Usage: bench/run.sh [-n N] [-benchtime T] [-bench REGEXP] [-o DIR]
#   -n N           interleaved runs; also $RUNS; default 10 (benchstat needs
#                  6 samples for a 95% confidence interval)
#   -benchtime T   per sub-benchmark and run; also $BENCHTIME; default 200ms
#   -bench REGEXP  which benchmarks; default .
#   -o DIR         keep the raw outputs in DIR; default a temporary directory
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-10}
benchtime=${BENCHTIME:-200ms}
bench=.
out=
while [ $# -gt 0 ]; do
	case $1 in
	-n) runs=$2; shift 2 ;;
	-benchtime) benchtime=$2; shift 2 ;;
	-bench) bench=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (try -h)" >&2; exit 2 ;;
	esac
done

cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT
keep=1
if [ -z "$out" ]; then
	out=$(mktemp -d)
	cleanup+=("$out")
	keep=0
fi
mkdir -p "$out"
: >"$out/all.txt"
tmpfs=${WALGUARD_BENCH_DIR:-/dev/shm}
disk=${WALGUARD_BENCH_SYNC_DIR:-}
if [ -z "$disk" ]; then
	disk=$(mktemp -d /var/tmp/walguard-bench.XXXXXX)
	cleanup+=("$disk")
fi
fstype() { stat -f -c %T "$1"; }
[ "$(fstype "$tmpfs")" = tmpfs ] ||
	echo "run.sh: warning: $tmpfs is $(fstype "$tmpfs"), not tmpfs: CPU-bound cases include disk I/O" >&2
[ "$(fstype "$disk")" != tmpfs ] ||
	echo "run.sh: warning: $disk is tmpfs: fsync-bound cases touch no disk" >&2

go test -c -o "$out/bench.test" ./bench/
{
	echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r), $(go version | cut -d' ' -f3-)"
	echo "runs: $runs interleaved, -benchtime $benchtime; tmpfs $tmpfs ($(fstype "$tmpfs")), disk $disk ($(fstype "$disk"))"
} | tee "$out/machine.txt"

for i in $(seq 1 "$runs"); do
	echo "run $i/$runs" >&2
	WALGUARD_BENCH_DIR=$tmpfs WALGUARD_BENCH_SYNC_DIR=$disk WALGUARD_BENCH_REVERSE=$((i % 2)) \
		"$out/bench.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.count 1 \
		>"$out/run-$i.txt"
	cat "$out/run-$i.txt" >>"$out/all.txt"
done

echo
echo "## benchstat -col /vfs: medians ± 95% confidence interval; vs base = walguard/os - 1 (unpaired)"
echo
go tool benchstat -col '/vfs@(os walguard)' "$out/all.txt" | tee "$out/benchstat.txt"

echo
echo "## walguard/os"
echo
echo "ratio: of the medians over all runs. paired: median of the per-run ratios (both VFSes ran"
echo "back to back in one process), which cancels drift slower than a run; CI: its distribution-free"
echo "95% confidence interval (order statistics). met: the paired median is within the target (docs/performance.md)."
echo
# Stage 1: one line per run, benchmark and unit: "name unit os|walguard|ratio value".
awk '
	/^Benchmark/ {
		name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
		vfs = name; sub(/.*\/vfs=/, "", vfs); sub(/\/vfs=[^\/]*/, "", name)
		for (i = 3; i < NF; i += 2)
			if ($(i + 1) ~ /^(ns\/op|txn\/s|reads\/s|p50-ns|p99-ns|cpu-ns\/op|allocs\/op)$/) v[FILENAME SUBSEP name SUBSEP $(i + 1) SUBSEP vfs] = $i
	}
	END {
		for (k in v) {
			split(k, p, SUBSEP)
			if (p[4] != "os" || !((p[1] SUBSEP p[2] SUBSEP p[3] SUBSEP "walguard") in v)) continue
			os = v[k]; wg = v[p[1] SUBSEP p[2] SUBSEP p[3] SUBSEP "walguard"]
			print p[2], p[3], "os", os; print p[2], p[3], "walguard", wg
			if (os > 0) print p[2], p[3], "ratio", wg / os
		}
	}' "$out"/run-*.txt | sort -k1,1 -k2,2 -k3,3 -k4,4g | awk '
	# Stage 2: medians, and for the paired ratios the order-statistic CI.
	function target(name, unit) {
		if (unit == "ns/op") {
			if (name ~ /^(InsertTxn|BulkInsert|CheckpointHeavy|ReadMix)/) return "<= 1.02"
			if (name ~ /^PointRead/) return "<= 1.03"
			if (name ~ /^OpenClose/) return "<= 1.05"
		}
		if (unit == "cpu-ns/op" && name ~ /^OpenClose/) {
			return "<= 1.05"
		}
		if (unit == "txn/s" && name ~ /^MultiProcess/) return ">= 0.97"
		if (name == "ReadConns/conns=100" || name == "Procs/op=read/procs=8") {
			if (unit == "reads/s") return ">= 0.99"
			if (unit == "p50-ns") return "<= 1.01"
		}
		if (name == "Procs/op=insert/procs=8" && unit == "txn/s") return ">= 0.99"
		if (unit == "p99-ns" && name ~ /^MultiProcess/) return "<= 1.05"
		if (unit == "allocs/op" && name ~ /^PointRead/) return "<= os"
		return ""
	}
	function median(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	# lowrank(n): the largest k with P(Bin(n, 1/2) < k) <= 0.025; 0 if none.
	function lowrank(n,    k, c, cum) {
		c = 1; cum = 0
		for (k = 0; k <= n; k++) {
			cum += c / 2 ^ n
			if (cum > 0.025) return k
			c = c * (n - k) / (k + 1)
		}
		return 0
	}
	function flush(    r, k) {
		if (n == 0) return
		med[key, kind] = median(a, n)
		if (kind == "ratio") {
			k = lowrank(n)
			ci[key] = k > 0 ? sprintf("%.3f-%.3f", a[k], a[n - k + 1]) : "n/a"
		}
		if (!(key in seen)) { seen[key] = 1; keys[++nk] = key }
		n = 0
	}
	{ if ($1 SUBSEP $2 != key || $3 != kind) { flush(); key = $1 SUBSEP $2; kind = $3 } a[++n] = $4 }
	END {
		flush()
		printf "%-44s %-9s %10s %10s %7s %7s %13s  %-8s %s\n", "benchmark", "unit", "os", "walguard", "ratio", "paired", "paired CI", "target", "met"
		for (i = 1; i <= nk; i++) {
			split(keys[i], p, SUBSEP); t = target(p[1], p[2])
			if (p[2] == "allocs/op" && t == "") continue
			os = med[keys[i], "os"]; wg = med[keys[i], "walguard"]
			ratio = os > 0 ? sprintf("%7.3f", wg / os) : "      -"
			paired = ((keys[i], "ratio") in med) ? sprintf("%7.3f", med[keys[i], "ratio"]) : "      -"
			met = ""
			if (t == "<= os") met = wg <= os ? "yes" : "NO"
			else if (t != "") {
				split(t, c, " "); r = med[keys[i], "ratio"]
				met = (c[1] == "<=" ? r <= c[2] : r >= c[2]) ? "yes" : "NO"
			}
			printf "%-44s %-9s %10.4g %10.4g %7s %7s %13s  %-8s %s\n", p[1], p[2], os, wg, ratio, paired, ci[keys[i]], t, met
		}
	}' | tee "$out/ratios.txt"

# per_run LABEL [OP TARGET]: reads one number per run on stdin and prints
# their median and distribution-free 95% interval, judged against OP
# TARGET (default <= 1.05): met when the median is within the target,
# shown when the whole interval is.
per_run() {
	sort -g | awk -v label="$1" -v op="${2:-<=}" -v target="${3:-1.05}" '
	# lowrank(n): the largest k with P(Bin(n, 1/2) < k) <= 0.025; 0 if none.
	function lowrank(n,    k, c, cum) {
		c = 1; cum = 0
		for (k = 0; k <= n; k++) {
			cum += c / 2 ^ n
			if (cum > 0.025) return k
			c = c * (n - k) / (k + 1)
		}
		return 0
	}
	{ a[++n] = $1 }
	END {
		if (n == 0) exit
		k = lowrank(n)
		med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		ci = k > 0 ? sprintf("%.3f-%.3f", a[k], a[n - k + 1]) : "n/a"
		met = (op == "<=" ? med <= target + 0 : med >= target + 0) ? "yes" : "NO"
		# shown: the whole interval is on the right side of the target.
		shown = k > 0 && (op == "<=" ? a[n - k + 1] <= target + 0 : a[k] >= target + 0) ? "yes" : "no"
		printf "\n%s, per run: median %.3f, CI %s, target %s %s, met %s, shown %s\n", label, med, ci, op, target, met, shown
	}' | tee -a "$out/ratios.txt"
}

# metric BENCH UNIT: the value of UNIT in each run's line of benchmark
# BENCH (its full name without the -GOMAXPROCS suffix), one per run.
metric() {
	awk -v bench="$1" -v unit="$2" '
	{ name = $1; sub(/-[0-9]+$/, "", name) }
	name == "Benchmark" bench {
		for (i = 3; i < NF; i += 2)
			if ($(i + 1) == unit) print $i
	}' "$out"/run-*.txt
}

# Open with live connections: walguard/os at live=100 over walguard/os at
# live=0, per run; the join is O(1) in live participants when it is 1. In
# wall time and in CPU time (which other jobs on the machine disturb less).
for unit in ns/op cpu-ns/op; do
	awk -v unit="$unit" '
	/^BenchmarkOpenLive\/live=[0-9]+\/vfs=/ {
		name = $1; sub(/^BenchmarkOpenLive\/live=/, "", name); sub(/-[0-9]+$/, "", name)
		split(name, p, "/vfs=")
		for (i = 3; i < NF; i += 2)
			if ($(i + 1) == unit) v[FILENAME, p[1], p[2]] = $i
		files[FILENAME] = 1
	}
	END {
		for (f in files)
			if (v[f, 0, "os"] > 0 && v[f, 100, "os"] > 0 && v[f, 0, "walguard"] > 0 && v[f, 100, "walguard"] > 0)
				print (v[f, 100, "walguard"] / v[f, 100, "os"]) / (v[f, 0, "walguard"] / v[f, 0, "os"])
	}' "$out"/run-*.txt | per_run "OpenLive growth, $unit: (walguard/os at live=100) / (walguard/os at live=0)"
done
# Open/close with the two VFSes interleaved op by op (OpenClosePaired):
# its walguard/os, per run. Drift lands on both sides within microseconds,
# so this is the steadiest measure of the join's cost.
for mode in wal-normal delete; do
	metric "OpenClosePaired/mode=$mode" walguard/os |
		per_run "OpenClosePaired mode=$mode: walguard/os, interleaved op by op"
done
# Many workers, paired in alternating phases (paired_test.go): walguard's
# throughput and median latency over os's, per run.
metric ReadConnsPaired/conns=100 reads/s-ratio | per_run "ReadConnsPaired conns=100: reads/s walguard/os" ">=" 0.99
metric ReadConnsPaired/conns=100 p50-ratio | per_run "ReadConnsPaired conns=100: p50 walguard/os" "<=" 1.01
metric ProcsPaired/op=insert/procs=8 txn/s-ratio | per_run "ProcsPaired op=insert procs=8: txn/s walguard/os" ">=" 0.99
metric ProcsPaired/op=read/procs=8 reads/s-ratio | per_run "ProcsPaired op=read procs=8: reads/s walguard/os" ">=" 0.99
metric ProcsPaired/op=read/procs=8 p50-ratio | per_run "ProcsPaired op=read procs=8: p50 walguard/os" "<=" 1.01
echo
if [ "$keep" = 1 ]; then
	echo "raw outputs: $out" >&2
else
	echo "raw outputs removed; -o DIR keeps them" >&2
fi
