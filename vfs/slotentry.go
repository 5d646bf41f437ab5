package vfs

import (
	"errors"
	"log/slog"
	"os"
	"syscall"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// A full disk must not refuse a connection whose declarations are held.
// Participation is the kernel locks; slot entries and a first record are
// descriptions and history. So a slot entry, or the record of a first use,
// that cannot be written for want of space is logged and skipped: the
// connection stays admitted, readers see its slot live with no entry,
// and the next join writes the record.

// noSpace reports whether err is a full disk or quota.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// slotWritten passes on the error of writing this connection's slot
// entry, except a full disk, which is logged.
func (m *mainFile) slotWritten(err error) error {
	if err == nil || !noSpace(err) {
		return err
	}
	m.g.log().Warn("walguard could not describe a connection in the sidecar; its locks still count",
		slog.String("db", m.name), slog.String("sidecar", m.side.Path()), slog.Any("err", err))
	return nil
}

// firstRecordCanWait reports whether a record that could not be written
// may stay in memory: a first record (there was none, or it agreed on no
// family yet) on a full disk, which the next join writes again. A change
// of an agreed family must be written, and is refused while the disk is
// full (transient). The agreement byte is held.
func (m *mainFile) firstRecordCanWait(was policy.Family, rec *sidecar.Record, err error) bool {
	if was != policy.FamilyUnknown || !noSpace(err) {
		return false
	}
	m.g.log().Warn("walguard could not write the sidecar record; the agreement holds in the locks and the next join writes it",
		slog.String("db", m.name), slog.String("sidecar", m.side.Path()), slog.String("family", rec.Family.String()),
		slog.Any("err", err))
	return true
}

// processID is this process's id, as slot entries and records name it.
// Read once: os.Getpid is a system call each time, and a Go process never
// changes its pid (it cannot fork without exec).
var processID = uint32(os.Getpid())
