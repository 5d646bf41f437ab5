//go:build !linux

package hostid

// machineID is Linux-only; elsewhere the hostname alone names the host.
func machineID() string { return "" }
