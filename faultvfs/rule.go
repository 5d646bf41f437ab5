package faultvfs

import (
	"strconv"
	"strings"
	"time"
)

// Rule says which calls fail and how. A call matches a rule when its
// operation is in Ops, its file kind in Kinds and its file name ends with
// PathSuffix; of the matching calls, the rule lets the first Skip through,
// then fails up to Count of them, each with the given Probability, while its
// Window lasts.
//
// Rules are tried in the order they were added; the first rule that fails a
// call decides its error, and the rules added after it do not see that call
// (their Matched counts and Skip budgets stay as they were).
type Rule struct {
	// Name shows in Stats and in the injected error's text. Rules may share
	// a name; Stats then adds them up. Empty means "rule-<id>".
	Name string

	// Ops are the operations the rule applies to; zero matches nothing.
	Ops Op

	// Kinds are the file kinds the rule applies to; zero means KindAll.
	Kinds Kind

	// PathSuffix, if not empty, limits the rule to files whose name ends
	// with it. Nameless temp files never match a non-empty suffix.
	PathSuffix string

	// Skip lets the first Skip matching calls through. Negative means zero.
	Skip int

	// Count limits the rule to this many injections; zero or negative means
	// no limit.
	Count int

	// Probability is the chance that a matching call (past Skip, within
	// Count and Window) fails, drawn from the VFS's seeded generator. Any
	// value outside the open interval (0, 1), zero included, means always;
	// only values inside it consume random numbers.
	Probability float64

	// Window, if positive, limits injections to the Window that starts at
	// the rule's first injection ("EIO for the next 50 ms"), measured with
	// the VFS clock (see VFS.SetClock). Once it has passed the rule stays
	// quiet; Remove it and Add it again to re-arm it.
	Window time.Duration

	// Err is returned as is from the failing call, so a sqlite3 code (for
	// instance sqlite3.BUSY) or a vfs.SystemError reaches SQLite intact.
	// Nil means the realistic default for the operation: an *InjectedError
	// wrapping EIO, tagged with the SQLite code the os VFS would give an EIO
	// there (see the package documentation).
	Err error
}

// RuleID identifies a rule added to a VFS, for Remove.
type RuleID uint64

// rule is a Rule with its state; all fields after Rule are guarded by VFS.mu.
type rule struct {
	Rule
	id       RuleID
	matched  int64 // calls that matched Ops, Kinds and PathSuffix
	injected int64
	started  bool      // the first injection happened
	first    time.Time // when it happened
}

func newRule(r Rule, id RuleID) *rule {
	if r.Name == "" {
		r.Name = "rule-" + strconv.FormatUint(uint64(id), 10)
	}
	if r.Kinds == 0 {
		r.Kinds = KindAll
	}
	r.Skip = max(r.Skip, 0)
	r.Count = max(r.Count, 0)
	r.Window = max(r.Window, 0)
	return &rule{Rule: r, id: id}
}

// matches reports whether a call is in the rule's scope, before Skip, Count,
// Probability and Window.
func (r *rule) matches(op Op, kind Kind, path string) bool {
	return r.Ops&op != 0 && r.Kinds&kind != 0 && strings.HasSuffix(path, r.PathSuffix)
}

// random reports whether the rule draws from the generator.
func (r *rule) random() bool { return 0 < r.Probability && r.Probability < 1 }
