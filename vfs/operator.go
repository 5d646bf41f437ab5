package vfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/policy"
)

// operatorParam is the URI parameter by which SetJournalMode's own
// connection is known. Its value is a random token valid only during the
// call, so an application cannot pass for the operator by adding it.
const operatorParam = "walguard_operator"

// DefaultOperatorWait bounds SetJournalMode's wait for SQLite's locks when
// its context has no deadline.
const DefaultOperatorWait = 5 * time.Second

// ErrNotAlone is wrapped by SetJournalMode's error when other participants
// are live: a deliberate change needs the database to itself.
var ErrNotAlone = errors.New("other connections are open on the database")

// SetJournalMode changes the journal mode of the database at path
// deliberately: the only way, with the command "walguard mode", to leave
// WAL under the default policy, and the way to test a settled rollback
// family again. It opens a connection of its own through g, checks under
// the sidecar's agreement lock that no other participant is live, runs
// PRAGMA journal_mode=mode, and records the mode with "operator" as the
// reason, with this process and the time.
//
// It waits for SQLite's own locks until ctx's deadline, or
// DefaultOperatorWait without one. The error names the database and says
// why; a *RefusalError (errors.As) tells whether retrying can help.
//
// https://sqlite.org/pragma.html#pragma_journal_mode
func (g *VFS) SetJournalMode(ctx context.Context, path string, mode policy.JournalMode) error {
	if mode.Family() == policy.FamilyUnknown {
		return fmt.Errorf("walguard: set journal mode of %s: unknown journal mode %q", path, mode)
	}
	full, err := g.base.FullPathname(path)
	if err != nil {
		return fmt.Errorf("walguard: set journal_mode=%s on %s: %w", mode, path, err)
	}
	fail := func(err error) error {
		return fmt.Errorf("walguard: set journal_mode=%s on %s: %w", mode, full, err)
	}
	token, release := g.operatorToken()
	defer release()
	q := url.Values{"vfs": {g.registeredName()}, operatorParam: {token}}
	// OPEN_READWRITE without OPEN_CREATE: a mode is set on a database
	// that exists, never on one this call would create.
	c, err := sqlite3.OpenFlags((&url.URL{Scheme: "file", OmitHost: true, Path: full, RawQuery: q.Encode()}).String(),
		sqlite3.OPEN_READWRITE|sqlite3.OPEN_URI)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	c.SetInterrupt(ctx)
	wait := DefaultOperatorWait
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d)
	}
	if err := c.BusyTimeout(max(wait, 0)); err != nil {
		return fail(err)
	}
	// Reading the schema makes SQLite look at the header, and open the
	// WAL if it says WAL, before the mode changes.
	if err := c.Exec("SELECT count(*) FROM sqlite_schema"); err != nil {
		return fail(g.explain(full, err))
	}
	got, err := queryOne(c, "PRAGMA journal_mode="+mode.String())
	if err != nil {
		return fail(g.explain(full, err))
	}
	if got != mode.String() {
		return fail(fmt.Errorf("SQLite kept journal_mode=%s (it cannot use %s here); nothing was recorded", got, mode))
	}
	if _, err := queryOne(c, "PRAGMA "+operatorCommitPragma); err != nil {
		return fail(err)
	}
	return nil
}

// explain returns the refusal behind err, which the driver may have kept
// only as text, or err.
func (g *VFS) explain(path string, err error) error {
	e := g.LastRefusal(path)
	if e == nil || !strings.Contains(err.Error(), policy.RefusalMarker) {
		return err
	}
	if e.Reason == policy.ReasonOthersLive {
		return fmt.Errorf("%w: %w", ErrNotAlone, e)
	}
	return e
}

func queryOne(c *sqlite3.Conn, sql string) (string, error) {
	stmt, _, err := c.Prepare(sql)
	if err != nil {
		return "", err
	}
	defer stmt.Close()
	var out string
	if stmt.Step() {
		out = stmt.ColumnText(0)
	}
	return out, stmt.Err()
}

// operatorToken returns a fresh token that marks SetJournalMode's
// connection, and a function that withdraws it.
func (g *VFS) operatorToken() (string, func()) {
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	g.mu.Lock()
	if g.operators == nil {
		g.operators = map[string]bool{}
	}
	g.operators[token] = true
	g.mu.Unlock()
	return token, func() {
		g.mu.Lock()
		delete(g.operators, token)
		g.mu.Unlock()
	}
}

func (g *VFS) isOperatorToken(token string) bool {
	if token == "" {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.operators[token]
}

// registeredName returns the name g is registered under, registering it
// under a name of its own if it was created with New.
func (g *VFS) registeredName() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.name == "" {
		g.name = fmt.Sprintf("walguard-operator-%p", g)
		vfs.Register(g.name, g)
	}
	return g.name
}
