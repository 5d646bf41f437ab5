//go:build unix

package main

import (
	"fmt"
	"os/exec"
	"syscall"
)

// shmFaultCommand returns the command that runs a worker under strace,
// which fails with EIO every fifth lseek(2) or fallocate(2) on the
// database's -shm from the third on: the calls ncruces makes to size and
// map the WAL-index, which no VFS can intercept. strace writes what it did
// to trace. The worker runs in a process group of its own, so that
// killWorker can kill the tracee with its tracer.
func shmFaultCommand(strace, trace, shm, exe string, args []string) *exec.Cmd {
	cmd := exec.Command(strace, append([]string{"-f", "-qq", "-o", trace, "-P", shm,
		"-e", "trace=lseek,fallocate", "-e", "inject=lseek,fallocate:error=EIO:when=3+5", exe}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killWorker SIGKILLs a worker, with its tracer and tracee when it runs
// under strace (a tracee outlives a killed tracer).
func killWorker(cmd *exec.Cmd) error {
	if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill worker group %d: %w", cmd.Process.Pid, err)
		}
		return nil
	}
	return cmd.Process.Kill()
}
