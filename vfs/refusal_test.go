package vfs

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
	"github.com/walguard/walguard/policy"
)

// Refusals become SQLite codes in one place: BUSY for what retrying can
// fix, the call's own code for what it cannot, and other errors untouched.
func TestToSQLite(t *testing.T) {
	eio := syscall.EIO
	for _, tc := range []struct {
		name string
		err  error
		want sqlite3.ErrorCode
	}{
		{"mismatch", &RefusalError{Reason: policy.ReasonFamilyMismatch}, sqlite3.BUSY},
		{"transient", &RefusalError{Reason: policy.ReasonTransientFault, Err: eio}, sqlite3.BUSY},
		{"incompatible", &RefusalError{Reason: policy.ReasonWALUnsupported}, sqlite3.CANTOPEN},
		{"not a refusal", sqlite3.IOERR_READ, sqlite3.IOERR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := toSQLite(tc.err, sqlite3.CANTOPEN)
			c, ok := errclass.Code(got)
			if !ok || c.Code() != tc.want {
				t.Fatalf("toSQLite(%v) = %v, want code %v", tc.err, got, tc.want)
			}
			if got.Error() != tc.err.Error() {
				t.Fatalf("toSQLite(%v) = %v: the error is not kept", tc.err, got)
			}
		})
	}
	if toSQLite(nil, sqlite3.CANTOPEN) != nil {
		t.Fatal("toSQLite(nil) is not nil")
	}
}

// refusalLogger records an unrelated refusal of the same database each
// time walguard logs one: what another connection of the process could do
// at the same moment.
type refusalLogger struct {
	slog.Handler
	g    *VFS
	path string
}

func (h *refusalLogger) Enabled(context.Context, slog.Level) bool { return true }

func (h *refusalLogger) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "walguard refused" && !strings.Contains(h.g.LastRefusal(h.path).Op, "unrelated") {
		h.g.refuse(h.g.db(h.path), &RefusalError{DB: h.path, Op: "unrelated", Reason: policy.ReasonSlotsFull})
	}
	return nil
}

// A refused PRAGMA journal_mode answers with the refusal in hand, typed
// until it reaches SQLite, never with the database's last refusal, which
// another connection may have written since.
func TestJournalModeRefusalIsTheErrorInHand(t *testing.T) {
	g := New(Options{})
	name := sqltest.Register(t, g)
	path := sqltest.TempDB(t)
	g.SetLogger(slog.New(&refusalLogger{Handler: slog.DiscardHandler, g: g, path: path}))

	a := sqltest.Open(t, sqltest.DSN(path, name))
	sqltest.Exec(t, a, "CREATE TABLE t(x)")
	// A nolock=1 connection is refused while a is live: it opens, but is
	// not admitted, so its journal_mode pragma joins first and is refused.
	b := sqltest.Open(t, sqltest.DSN(path, name, "nolock=1"))
	b.BusyTimeout(0)

	_, err := sqlrow.Text(b, "PRAGMA journal_mode=delete")
	if !errors.Is(err, sqlite3.BUSY) || !strings.Contains(err.Error(), "journal_mode=delete") ||
		!strings.Contains(err.Error(), policy.ReasonNoLock.String()) || strings.Contains(err.Error(), "unrelated") {
		t.Fatalf("journal_mode=delete = %v, want the nolock refusal of this pragma", err)
	}
	if r := g.LastRefusal(path); r == nil || r.Op != "unrelated" {
		t.Fatalf("last refusal %v: the logger did not record the unrelated one, the test proves nothing", r)
	}

	// Below SQLite, the decision is a *RefusalError.
	f, err := b.FileControl("main", sqlite3.FCNTL_FILE_POINTER)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := f.(vfs.File)
	m, ok := vfsutil.UnwrapFile[*mainFile](file)
	if !ok {
		t.Fatalf("file pointer %T, want *mainFile", f)
	}
	err = m.journalMode(policy.ModeDelete)
	if e, ok := err.(*RefusalError); !ok || e.Reason != policy.ReasonNoLock || e.Op != "journal_mode=delete" {
		t.Fatalf("journalMode = %#v, want a *RefusalError for nolock", err)
	}
}
