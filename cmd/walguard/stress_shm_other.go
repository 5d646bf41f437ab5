//go:build !unix

package main

import "os/exec"

// shmFaultCommand is unix-only: strace injects the faults. parseStress
// refuses -shm-fault-workers elsewhere, so this is never called.
func shmFaultCommand(strace, trace, shm, exe string, args []string) *exec.Cmd {
	return exec.Command(exe, args...)
}

// killWorker SIGKILLs a worker.
func killWorker(cmd *exec.Cmd) error { return cmd.Process.Kill() }
