package hostid

import (
	"io"
	"os"
)

// machineIDFiles are where systemd and D-Bus keep the machine id.
var machineIDFiles = [...]string{"/etc/machine-id", "/var/lib/dbus/machine-id"}

// machineID returns the start of the first machine-id file that can be
// read, or "".
func machineID() string {
	for _, name := range machineIDFiles {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		buf := make([]byte, 64)
		n, _ := io.ReadFull(f, buf)
		f.Close()
		if n > 0 {
			return string(buf[:n])
		}
	}
	return ""
}
