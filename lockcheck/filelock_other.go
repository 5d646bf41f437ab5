//go:build !(linux || darwin || windows)

package lockcheck

import "os"

func tryLock(*os.File, int64, bool) error    { return ErrLocksUnsupported }
func unlock(*os.File, int64) error           { return ErrLocksUnsupported }
func testLock(*os.File, int64) (bool, error) { return false, ErrLocksUnsupported }
