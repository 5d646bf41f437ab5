package vfs

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/walguard/walguard/lockcheck"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// Stats are a VFS's counters since it was created.
type Stats struct {
	Opens          uint64            `json:"opens"`           // main databases opened as participants
	PassThrough    uint64            `json:"pass_through"`    // files opened without a gate (temp, read-only, immutable)
	Joins          uint64            `json:"joins"`           // protocol and family admissions that took the sidecar's agreement lock
	Retries        uint64            `json:"retries"`         // retries of transient faults inside the shim
	Recovered      uint64            `json:"recovered"`       // operations that succeeded after at least one retry
	Refusals       map[string]uint64 `json:"refusals"`        // by policy.Reason
	ForeignFlips   uint64            `json:"foreign_flips"`   // header flips made without walguard
	Settled        uint64            `json:"settled"`         // agreed modes settled on rollback by a deterministic signal
	RecordsRebuilt uint64            `json:"records_rebuilt"` // torn or garbage records rebuilt
	// SidecarsReplaced counts fresh records started while the database's
	// mirror bytes showed live participants (a sidecar removed or replaced
	// while in use).
	SidecarsReplaced uint64 `json:"sidecars_replaced"`
	PragmaWaits      uint64 `json:"pragma_waits"` // waits of refused journal_mode pragmas for the participants in the way
}

type counters struct {
	opens, passThrough, joins, retries, recovered atomic.Uint64
	foreignFlips, settled, rebuilt, pragmaWaits   atomic.Uint64
	sidecarReplaced                               atomic.Uint64

	mu       sync.Mutex
	refusals map[policy.Reason]uint64 // +checklocks:mu
}

func (c *counters) refused(r policy.Reason) {
	c.mu.Lock()
	if c.refusals == nil {
		c.refusals = map[policy.Reason]uint64{}
	}
	c.refusals[r]++
	c.mu.Unlock()
}

// Stats returns a copy of the counters.
func (g *VFS) Stats() Stats {
	c := &g.stats
	s := Stats{
		Opens:          c.opens.Load(),
		PassThrough:    c.passThrough.Load(),
		Joins:          c.joins.Load(),
		Retries:        c.retries.Load(),
		Recovered:      c.recovered.Load(),
		ForeignFlips:   c.foreignFlips.Load(),
		Settled:        c.settled.Load(),
		RecordsRebuilt: c.rebuilt.Load(),

		SidecarsReplaced: c.sidecarReplaced.Load(),
		PragmaWaits:      c.pragmaWaits.Load(),
		Refusals:         map[string]uint64{},
	}
	c.mu.Lock()
	for r, n := range c.refusals {
		s.Refusals[r.String()] = n
	}
	c.mu.Unlock()
	return s
}

// Status is what walguard knows of one database: the sidecar as it is
// now, this process's last refusal for it, and this VFS's counters.
// PRAGMA walguard_status answers it as JSON (docs/status.md); its
// "sidecar" object is the one "walguard check -json" prints.
type Status struct {
	DB      string         `json:"db"`
	Sidecar sidecar.Status `json:"sidecar"`
	// WithoutWalguard are the processes that hold SQLite's own locks on
	// the database or its -shm without a walguard slot (python's sqlite3,
	// the sqlite3 CLI, ...), with pid and command where the system says
	// (Linux's /proc/locks); walguard check lists the same.
	WithoutWalguard []lockcheck.ForeignParticipant `json:"without_walguard"`
	FileSystem      string                         `json:"filesystem,omitempty"` // as detected at the first open in this process
	LastRefusal     *RefusalStatus                 `json:"last_refusal,omitempty"`
	Stats           Stats                          `json:"stats"`
}

// A RefusalStatus is a refusal as Status shows it.
type RefusalStatus struct {
	Op        string `json:"op"`
	Reason    string `json:"reason"`
	Class     string `json:"class"`
	Retryable bool   `json:"retryable"`
	Message   string `json:"message"`
}

// Status reports the sidecar and this process's view of the database at
// dbPath. The path is resolved as SQLite resolves it (absolute, symbolic
// links followed), so a link to the database reports the database. A
// database that does not exist is an error matching fs.ErrNotExist. It
// takes no lock. An error reading the sidecar is returned, and also kept
// in Sidecar.Error.
func (g *VFS) Status(dbPath string) (Status, error) {
	dbPath, err := statusPath(dbPath)
	if err != nil {
		return Status{DB: dbPath}, err
	}
	side, err := sidecar.ReadStatus(dbPath)
	st := Status{DB: dbPath, Sidecar: side, Stats: g.Stats()}
	if db := g.lookup(dbPath); db != nil {
		db.mu.Lock()
		if e := db.lastRefusal; e != nil {
			st.LastRefusal = &RefusalStatus{
				Op: e.Op, Reason: e.Reason.String(), Class: e.WalguardClass().String(),
				Retryable: e.Retryable(), Message: e.Error(),
			}
		}
		st.FileSystem = db.fs.Type
		db.mu.Unlock()
	}
	st.WithoutWalguard = withoutWalguard(dbPath, st.Sidecar)
	return st, err
}

// LastRefusal returns this process's most recent refusal for the database
// at dbPath, or nil.
func (g *VFS) LastRefusal(dbPath string) *RefusalError {
	db := g.lookup(dbPath)
	if db == nil {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.lastRefusal
}

func (s Status) json() string {
	b, err := json.Marshal(s)
	if err != nil {
		return `{"error":` + jsonString(err.Error()) + `}`
	}
	return string(b)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
