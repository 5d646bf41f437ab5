//go:build !unix

package lockcheck

const oNonBlock = 0
