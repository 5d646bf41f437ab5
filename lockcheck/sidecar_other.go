//go:build !unix

package lockcheck

const oNoFollow = 0

func isSymlinkLoop(error) bool { return false }
