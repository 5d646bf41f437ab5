package lockcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// procLocksPath is the kernel's table of every file lock on the system.
const procLocksPath = "/proc/locks"

// readLockTable returns the locks /proc/locks lists on the given files,
// with the owner of each OFD lock that the kernel prints as pid -1 looked
// up in /proc/PID/fdinfo. It only reads.
func readLockTable(files map[fileID]string) ([]ProcLock, string, error) {
	// The kernel prints /proc/locks a page per read(2) and restarts each
	// read from a position, so a table that changes between two reads (any
	// process locking any file) can show an entry twice or skip one. Each
	// lock on our files is counted as often as the median of several
	// reads shows it: a glitch must hit the same entry in most reads.
	reads := make([][]ProcLock, lockTableReads)
	for i := range reads {
		text, err := os.ReadFile(procLocksPath)
		if err != nil {
			return nil, procLocksPath, fmt.Errorf("read %s: %w", procLocksPath, err)
		}
		reads[i] = locksOn(files, ParseProcLocks(string(text)))
	}
	mine := medianLocks(reads)
	for _, l := range mine {
		if l.PID <= 0 {
			attributeOFDLocks(mine, files)
			break
		}
	}
	return mine, procLocksPath, nil
}

// lockTableReads is how many reads of /proc/locks readLockTable takes the
// median of.
const lockTableReads = 3

// locksOn keeps the locks on the given files, in the kernel's order.
func locksOn(files map[fileID]string, locks []ProcLock) []ProcLock {
	var mine []ProcLock
	for _, l := range locks {
		if _, ok := files[l.fileID()]; ok {
			mine = append(mine, l)
		}
	}
	return mine
}

// attributeOFDLocks finds, for each lock without a pid, a process with an
// open file whose /proc/PID/fdinfo lists that lock. Processes it may not
// inspect are skipped, leaving their locks without a pid.
func attributeOFDLocks(locks []ProcLock, files map[fileID]string) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid <= 0 {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			fi, err := os.Stat(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			id, ok := fileIdentity(fi)
			if !ok {
				continue
			}
			if _, ours := files[id]; !ours {
				continue
			}
			info, err := os.ReadFile(filepath.Join("/proc", p.Name(), "fdinfo", fd.Name()))
			if err != nil {
				continue
			}
			for _, held := range ParseProcLocks(string(info)) {
				claim(locks, held, pid)
			}
		}
	}
}

// claim gives pid to the first lock without one that matches held.
func claim(locks []ProcLock, held ProcLock, pid int) {
	for i := range locks {
		l := &locks[i]
		if l.PID <= 0 && l.fileID() == held.fileID() && l.Kind == held.Kind &&
			l.Access == held.Access && l.Start == held.Start && l.End == held.End && l.Blocked == held.Blocked {
			l.PID = pid
			return
		}
	}
}

// fileIdentity returns the device and inode /proc/locks would print for fi.
func fileIdentity(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	dev := uint64(st.Dev) // Dev is uint32 on some architectures
	return fileID{Major: unix.Major(dev), Minor: unix.Minor(dev), Inode: st.Ino}, true
}

// processName returns the command name of pid from /proc/PID/comm, or "".
func processName(pid int) string {
	if pid <= 0 {
		return ""
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// hasLockTable: Linux lists every file lock in /proc/locks.
const hasLockTable = true
