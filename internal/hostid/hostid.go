// Package hostid names the host a process runs on, for the sidecar
// record: walguard refuses WAL between participants on different hosts,
// because WAL's shared memory cannot span them.
package hostid

import (
	"os"
	"strings"
)

// MaxLen is the longest identity Identity returns, in bytes.
const MaxLen = 47

// machineIDLen is how much of the machine id the identity keeps: enough to
// tell apart two hosts that share a hostname (cloned VMs, containers).
const machineIDLen = 8

// Identity returns this host's identity: the hostname, followed on Linux
// by "/" and the first 8 hex digits of /etc/machine-id when it can be read,
// for example "builder-1/3f2a9c01". The hostname is cut so that the whole
// fits in MaxLen bytes, bytes outside printable ASCII and "/" in it become
// "_", and a host without a name is "unknown". The result is never empty.
//
// Two processes on one host get the same identity; containers that share
// the host's kernel but not its UTS namespace may differ, which makes
// walguard stricter, never laxer.
func Identity() string {
	host, err := os.Hostname()
	if err != nil {
		host = ""
	}
	return compose(host, machineID())
}

// compose builds the identity from a hostname and a machine id; a machine
// id that does not start with 8 hex digits is left out.
func compose(host, machineID string) string {
	suffix := ""
	if id := strings.ToLower(strings.TrimSpace(machineID)); len(id) >= machineIDLen && isHex(id[:machineIDLen]) {
		suffix = "/" + id[:machineIDLen]
	}
	name := sanitize(host)
	if name == "" {
		name = "unknown"
	}
	if limit := MaxLen - len(suffix); len(name) > limit {
		name = name[:limit]
	}
	return name + suffix
}

// sanitize keeps printable ASCII other than "/" (which separates the
// machine id) and replaces every other byte with "_".
func sanitize(host string) string {
	host = strings.TrimSpace(host)
	b := []byte(host)
	for i, c := range b {
		if c <= ' ' || c > '~' || c == '/' {
			b[i] = '_'
		}
	}
	return string(b)
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
