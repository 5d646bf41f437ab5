//go:build !(linux || darwin)

package filelock

import "os"

func probeFcntl(*os.File, int64, int64) (bool, int, error) { return false, 0, ErrUnsupported }
func probeFlock(*os.File) (bool, error)                    { return false, ErrUnsupported }
