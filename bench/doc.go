// Package bench measures what walguard costs. Every benchmark runs one
// workload twice in the same process and run, as the sub-benchmarks
// vfs=os (the plain ncruces os VFS) and vfs=walguard, so that benchstat
// pairs them:
//
//	go test -run '^$' -bench . -count 10 ./bench/ > new.txt
//	go tool benchstat -col /vfs new.txt
//
// The benchmarks named ...Paired instead run os and walguard in one loop,
// interleaved operation by operation (OpenClosePaired, InsertTxnPaired)
// or in alternating phases of a few milliseconds with every worker on one
// side at once (ReadConnsPaired, ProcsPaired), and report walguard's
// ratio to os themselves: a shared machine's drift then lands on both
// sides, which it does not between separate sub-benchmarks.
//
// bench/run.sh runs the suite as interleaved runs and prints the
// walguard/os ratios; bench/strace.sh counts system calls per transaction.
// Method and latest results: docs/performance.md.
//
// Environment: WALGUARD_BENCH_DIR holds the databases of CPU-bound
// benchmarks (run.sh points it at /dev/shm), WALGUARD_BENCH_SYNC_DIR those
// whose cost is fsync (a real disk); both default to a fresh temporary
// directory. WALGUARD_BENCH_REVERSE=1 runs vfs=walguard before vfs=os.
// WALGUARD_BENCH_PAIRED_AA=1 runs the paired benchmarks with os on both
// sides, which shows their own bias and noise on the machine.
// WALGUARD_BENCH_CHILD_CPUPROFILE=DIR has every worker child of
// BenchmarkProcs write a CPU profile into DIR.
package bench
