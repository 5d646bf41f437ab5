package faultvfs

import (
	"fmt"
	"strings"
)

// Stats is a snapshot of what a VFS has seen and failed. Its slices are in
// a deterministic order: Rules in the order their names were first added,
// Ops and Kinds in the order of the constants, with the entries that saw no
// call left out.
type Stats struct {
	Calls    int64 // calls intercepted, all operations and kinds
	Injected int64 // calls failed

	Rules []RuleStats
	Ops   []OpStats
	Kinds []KindStats
}

// RuleStats counts one rule name's calls; rules sharing a name add up.
type RuleStats struct {
	Name     string
	Matched  int64 // calls in the rule's scope (operation, kind, suffix) that reached it
	Injected int64 // calls it failed
}

// OpStats counts the calls of one operation.
type OpStats struct {
	Op       Op
	Calls    int64
	Injected int64
}

// KindStats counts the calls on one kind of file.
type KindStats struct {
	Kind     Kind
	Calls    int64
	Injected int64
}

// Rule returns the counts of the rules with the given name.
func (s Stats) Rule(name string) (RuleStats, bool) {
	for _, r := range s.Rules {
		if r.Name == name {
			return r, true
		}
	}
	return RuleStats{Name: name}, false
}

// Op returns the counts of a single operation (zero if it saw no call).
func (s Stats) Op(op Op) OpStats {
	for _, o := range s.Ops {
		if o.Op == op {
			return o
		}
	}
	return OpStats{Op: op}
}

// Kind returns the counts of a single kind (zero if it saw no call).
func (s Stats) Kind(kind Kind) KindStats {
	for _, k := range s.Kinds {
		if k.Kind == kind {
			return k
		}
	}
	return KindStats{Kind: kind}
}

// String formats the statistics on a few lines, in the order of the slices:
//
//	calls 12, injected 1
//	rule "wal-eio": matched 1, injected 1
//	op open: calls 3, injected 1
//	kind wal: calls 1, injected 1
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "calls %d, injected %d", s.Calls, s.Injected)
	for _, r := range s.Rules {
		fmt.Fprintf(&b, "\nrule %q: matched %d, injected %d", r.Name, r.Matched, r.Injected)
	}
	for _, o := range s.Ops {
		fmt.Fprintf(&b, "\nop %s: calls %d, injected %d", o.Op, o.Calls, o.Injected)
	}
	for _, k := range s.Kinds {
		fmt.Fprintf(&b, "\nkind %s: calls %d, injected %d", k.Kind, k.Calls, k.Injected)
	}
	return b.String()
}

// Stats returns a snapshot of the counts since New or the last Clear.
func (v *VFS) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stats.snapshot()
}

type counts struct{ calls, injected int64 }

// statsCollector accumulates Stats; guarded by VFS.mu.
type statsCollector struct {
	rules map[string]*RuleStats
	order []string // rule names in order of first Add
	ops   [len(opNames)]counts
	kinds [len(kindNames)]counts
}

func (c *statsCollector) addRule(name string) {
	if c.rules == nil {
		c.rules = make(map[string]*RuleStats)
	}
	if _, ok := c.rules[name]; !ok {
		c.rules[name] = &RuleStats{Name: name}
		c.order = append(c.order, name)
	}
}

func (c *statsCollector) ruleMatched(name string) {
	c.addRule(name)
	c.rules[name].Matched++
}

func (c *statsCollector) ruleInjected(name string) {
	c.addRule(name)
	c.rules[name].Injected++
}

// call counts one call of a single op on a single kind.
func (c *statsCollector) call(op Op, kind Kind, injected bool) {
	for _, n := range []*counts{&c.ops[op.index()], &c.kinds[kind.index()]} {
		n.calls++
		if injected {
			n.injected++
		}
	}
}

func (c *statsCollector) snapshot() Stats {
	var s Stats
	for _, name := range c.order {
		s.Rules = append(s.Rules, *c.rules[name])
	}
	for i, n := range c.ops {
		s.Calls += n.calls
		s.Injected += n.injected
		if n.calls > 0 {
			s.Ops = append(s.Ops, OpStats{Op: Op(1) << i, Calls: n.calls, Injected: n.injected})
		}
	}
	for i, n := range c.kinds {
		if n.calls > 0 {
			s.Kinds = append(s.Kinds, KindStats{Kind: Kind(1) << i, Calls: n.calls, Injected: n.injected})
		}
	}
	return s
}
