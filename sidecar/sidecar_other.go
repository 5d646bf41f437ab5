//go:build !unix

package sidecar

const (
	oNoFollow = 0
	oNonBlock = 0
)

func isSymlinkLoop(error) bool { return false }
