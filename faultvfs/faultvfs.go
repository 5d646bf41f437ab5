package faultvfs

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/forward"
)

// VFS wraps a base VFS and fails the calls its rules select. Create it with
// [New]; it is safe for concurrent use.
type VFS struct {
	base vfs.VFS

	mu     sync.Mutex
	rng    *rand.Rand       // +checklocks:mu
	now    func() time.Time // +checklocks:mu
	rules  []*rule          // +checklocks:mu; in the order added
	nextID RuleID           // +checklocks:mu
	stats  statsCollector   // +checklocks:mu
}

var (
	_ vfs.VFS         = (*VFS)(nil)
	_ vfs.VFSFilename = (*VFS)(nil)
)

// New returns a VFS that wraps base (usually vfs.Find("os")) and draws its
// random numbers from a PCG generator seeded with seed. It has no rules yet,
// so it fails nothing until [VFS.Add] is called. A nil base means the os VFS.
func New(base vfs.VFS, seed int64) *VFS {
	if base == nil {
		base = vfs.Find("os")
	}
	s := uint64(seed)
	return &VFS{
		base: base,
		rng:  rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15)),
		now:  time.Now,
	}
}

// SetClock replaces the clock rule windows are measured with; nil restores
// time.Now. Tests pass a fake clock to make windows deterministic. The
// clock is called with the VFS's lock held, so it must not call the VFS.
func (v *VFS) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	v.mu.Lock()
	v.now = now
	v.mu.Unlock()
}

// Add adds a rule after the existing ones and returns its id.
func (v *VFS) Add(r Rule) RuleID {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.nextID++
	nr := newRule(r, v.nextID)
	v.rules = append(v.rules, nr)
	v.stats.addRule(nr.Name)
	return nr.id
}

// Remove removes the rule with the given id; an unknown id does nothing.
// The rule's counts stay in Stats.
func (v *VFS) Remove(id RuleID) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rules = slices.DeleteFunc(v.rules, func(r *rule) bool { return r.id == id })
}

// Clear removes every rule and zeroes the statistics. The random generator
// and the clock are left as they are.
func (v *VFS) Clear() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rules = nil
	v.stats = statsCollector{}
}

// fault counts one call and returns the error to fail it with, or nil.
func (v *VFS) fault(op Op, kind Kind, path string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var failing *rule
	for _, r := range v.rules {
		if !r.matches(op, kind, path) {
			continue
		}
		r.matched++
		v.stats.ruleMatched(r.Name)
		if r.matched <= int64(r.Skip) {
			continue
		}
		if r.Count > 0 && r.injected >= int64(r.Count) {
			continue
		}
		if r.Window > 0 && r.started && v.now().Sub(r.first) >= r.Window {
			continue
		}
		if r.random() && v.rng.Float64() >= r.Probability {
			continue
		}
		failing = r
		break
	}
	if failing == nil {
		v.stats.call(op, kind, false)
		return nil
	}
	failing.injected++
	if !failing.started {
		failing.started = true
		failing.first = v.now()
	}
	v.stats.ruleInjected(failing.Name)
	v.stats.call(op, kind, true)
	return injectedError(failing, op, kind, path)
}

// SidecarFault applies the rules to one I/O on walguard's sidecar, which
// walguard does with package os, not through a VFS. walguard calls it before
// each sidecar operation (open, read, write, sync, lock) with the sidecar's
// path; a non-nil result is to be returned as if the operation had failed.
// Rules see the call with kind [KindSidecar]. The default error is an
// *InjectedError wrapping the error package os would return, without a
// SQLite code. An op that is not exactly one operation is an error.
//
// [VFS.SidecarHook] adapts it to walguard's Options.SidecarHook.
func (v *VFS) SidecarFault(op Op, path string) error {
	if !op.single() {
		return fmt.Errorf("faultvfs: sidecar fault on %s: want exactly one operation", op)
	}
	return v.fault(op, KindSidecar, path)
}

// SidecarHook returns [VFS.SidecarFault] in the shape of walguard's
// vfs.Options.SidecarHook, which names operations with strings ("open",
// "lock", ...; see [ParseOp]). An unknown name is an error.
func (v *VFS) SidecarHook() func(op, path string) error {
	return func(op, path string) error {
		o, err := ParseOp(op)
		if err != nil {
			return err
		}
		return v.SidecarFault(o, path)
	}
}

// Open implements vfs.VFS; SQLite calls OpenFilename instead.
func (v *VFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	kind := KindOfOpen(name, flags)
	if err := v.fault(OpOpen, kind, name); err != nil {
		return nil, flags, err
	}
	file, flags, err := vfsutil.WrapOpen(v.base, name, flags)
	return v.wrap(file, name, kind, flags, err)
}

// OpenFilename implements vfs.VFSFilename.
func (v *VFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	path := name.String()
	kind := KindOfOpen(path, flags)
	if err := v.fault(OpOpen, kind, path); err != nil {
		return nil, flags, err
	}
	file, flags, err := vfsutil.WrapOpenFilename(v.base, name, flags)
	return v.wrap(file, path, kind, flags, err)
}

func (v *VFS) wrap(file vfs.File, path string, kind Kind, flags vfs.OpenFlag, err error) (vfs.File, vfs.OpenFlag, error) {
	if err != nil || file == nil {
		return file, flags, err
	}
	return &faultFile{File: forward.File{File: file}, vfs: v, path: path, kind: kind}, flags, nil
}

// Delete implements vfs.VFS; the file's kind comes from its name ([KindOfName]).
func (v *VFS) Delete(name string, syncDir bool) error {
	if err := v.fault(OpDelete, KindOfName(name), name); err != nil {
		return err
	}
	return v.base.Delete(name, syncDir)
}

// Access implements vfs.VFS; the file's kind comes from its name ([KindOfName]).
func (v *VFS) Access(name string, flags vfs.AccessFlag) (bool, error) {
	if err := v.fault(OpAccess, KindOfName(name), name); err != nil {
		return false, err
	}
	return v.base.Access(name, flags)
}

// FullPathname implements vfs.VFS; it is never failed.
func (v *VFS) FullPathname(name string) (string, error) {
	return v.base.FullPathname(name)
}
