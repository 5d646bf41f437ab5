//go:build !(linux || darwin || windows)

package filelock

import "os"

func tryLock(*os.File, int64, bool) error    { return ErrUnsupported }
func unlock(*os.File, int64) error           { return ErrUnsupported }
func testLock(*os.File, int64) (bool, error) { return false, ErrUnsupported }

const supported = false

func testRange(*os.File, int64, int64) (bool, int64, int64, error) {
	return false, 0, 0, ErrUnsupported
}
