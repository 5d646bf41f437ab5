package faultvfs_test

import (
	"errors"
	"io"
	"slices"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/faultvfs"
)

// baseVFS opens recordingFiles (or bareFiles), through the plain Open path.
type baseVFS struct {
	bare  bool
	files []*recordingFile
}

func (b *baseVFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	if b.bare {
		return bareFile{}, flags, nil
	}
	f := &recordingFile{}
	b.files = append(b.files, f)
	return f, flags, nil
}
func (b *baseVFS) Delete(string, bool) error                   { return nil }
func (b *baseVFS) Access(string, vfs.AccessFlag) (bool, error) { return true, nil }
func (b *baseVFS) FullPathname(name string) (string, error)    { return "/full/" + name, nil }

// bareFile implements vfs.File and nothing more.
type bareFile struct{}

func (bareFile) Close() error                                    { return nil }
func (bareFile) ReadAt(p []byte, off int64) (int, error)         { return 0, io.EOF }
func (bareFile) WriteAt(p []byte, off int64) (int, error)        { return len(p), nil }
func (bareFile) Truncate(int64) error                            { return nil }
func (bareFile) Sync(vfs.SyncFlag) error                         { return nil }
func (bareFile) Size() (int64, error)                            { return 0, nil }
func (bareFile) Lock(vfs.LockLevel) error                        { return nil }
func (bareFile) Unlock(vfs.LockLevel) error                      { return nil }
func (bareFile) CheckReservedLock() (bool, error)                { return false, nil }
func (bareFile) SectorSize() int                                 { return 512 }
func (bareFile) DeviceCharacteristics() vfs.DeviceCharacteristic { return vfs.IOCAP_ATOMIC512 }

// recordingFile implements every optional capability and records each call.
type recordingFile struct {
	bareFile
	calls []string
}

func (f *recordingFile) rec(name string) { f.calls = append(f.calls, name) }

func (f *recordingFile) ReadAt(p []byte, off int64) (int, error) { f.rec("ReadAt"); return 0, io.EOF }
func (f *recordingFile) WriteAt(p []byte, off int64) (int, error) {
	f.rec("WriteAt")
	return len(p), nil
}
func (f *recordingFile) Truncate(int64) error       { f.rec("Truncate"); return nil }
func (f *recordingFile) Sync(vfs.SyncFlag) error    { f.rec("Sync"); return nil }
func (f *recordingFile) Size() (int64, error)       { f.rec("Size"); return 0, nil }
func (f *recordingFile) Lock(vfs.LockLevel) error   { f.rec("Lock"); return nil }
func (f *recordingFile) Unlock(vfs.LockLevel) error { f.rec("Unlock"); return nil }
func (f *recordingFile) CheckReservedLock() (bool, error) {
	f.rec("CheckReservedLock")
	return false, nil
}

func (f *recordingFile) LockState() vfs.LockLevel       { f.rec("LockState"); return vfs.LOCK_RESERVED }
func (f *recordingFile) PersistWAL() bool               { f.rec("PersistWAL"); return true }
func (f *recordingFile) SetPersistWAL(bool)             { f.rec("SetPersistWAL") }
func (f *recordingFile) PowersafeOverwrite() bool       { f.rec("PowersafeOverwrite"); return true }
func (f *recordingFile) SetPowersafeOverwrite(bool)     { f.rec("SetPowersafeOverwrite") }
func (f *recordingFile) ChunkSize(int)                  { f.rec("ChunkSize") }
func (f *recordingFile) SizeHint(int64) error           { f.rec("SizeHint"); return nil }
func (f *recordingFile) HasMoved() (bool, error)        { f.rec("HasMoved"); return true, nil }
func (f *recordingFile) Overwrite() error               { f.rec("Overwrite"); return nil }
func (f *recordingFile) SyncSuper(string) error         { f.rec("SyncSuper"); return nil }
func (f *recordingFile) CommitPhaseTwo() error          { f.rec("CommitPhaseTwo"); return nil }
func (f *recordingFile) BeginAtomicWrite() error        { f.rec("BeginAtomicWrite"); return nil }
func (f *recordingFile) CommitAtomicWrite() error       { f.rec("CommitAtomicWrite"); return nil }
func (f *recordingFile) RollbackAtomicWrite() error     { f.rec("RollbackAtomicWrite"); return nil }
func (f *recordingFile) CheckpointStart()               { f.rec("CheckpointStart") }
func (f *recordingFile) CheckpointDone()                { f.rec("CheckpointDone") }
func (f *recordingFile) BusyHandler(func() bool)        { f.rec("BusyHandler") }
func (f *recordingFile) SharedMemory() vfs.SharedMemory { f.rec("SharedMemory"); return nil }
func (f *recordingFile) MemoryMapper() vfs.MemoryMapper { f.rec("MemoryMapper"); return nil }
func (f *recordingFile) SetDB(any)                      { f.rec("SetDB") }
func (f *recordingFile) Pragma(name, value string) (string, error) {
	f.rec("Pragma")
	return name + "=" + value, nil
}

// capabilities calls every optional capability of f, failing the test if f
// lacks one, and returns what each call returned.
func capabilities(t *testing.T, f vfs.File) map[string]any {
	t.Helper()
	out := map[string]any{}
	must := func(ok bool, name string) {
		if !ok {
			t.Fatalf("wrapped file lacks %s", name)
		}
	}
	ls, ok := f.(vfs.FileLockState)
	must(ok, "FileLockState")
	out["LockState"] = ls.LockState()
	pw, ok := f.(vfs.FilePersistWAL)
	must(ok, "FilePersistWAL")
	out["PersistWAL"] = pw.PersistWAL()
	pw.SetPersistWAL(true)
	out["SetPersistWAL"] = nil
	ps, ok := f.(vfs.FilePowersafeOverwrite)
	must(ok, "FilePowersafeOverwrite")
	out["PowersafeOverwrite"] = ps.PowersafeOverwrite()
	ps.SetPowersafeOverwrite(true)
	out["SetPowersafeOverwrite"] = nil
	cs, ok := f.(vfs.FileChunkSize)
	must(ok, "FileChunkSize")
	cs.ChunkSize(4096)
	out["ChunkSize"] = nil
	sh, ok := f.(vfs.FileSizeHint)
	must(ok, "FileSizeHint")
	out["SizeHint"] = sh.SizeHint(1 << 20)
	hm, ok := f.(vfs.FileHasMoved)
	must(ok, "FileHasMoved")
	moved, err := hm.HasMoved()
	out["HasMoved"] = [2]any{moved, err}
	ow, ok := f.(vfs.FileOverwrite)
	must(ok, "FileOverwrite")
	out["Overwrite"] = ow.Overwrite()
	ss, ok := f.(vfs.FileSync)
	must(ok, "FileSync")
	out["SyncSuper"] = ss.SyncSuper("super")
	c2, ok := f.(vfs.FileCommitPhaseTwo)
	must(ok, "FileCommitPhaseTwo")
	out["CommitPhaseTwo"] = c2.CommitPhaseTwo()
	ba, ok := f.(vfs.FileBatchAtomicWrite)
	must(ok, "FileBatchAtomicWrite")
	out["BeginAtomicWrite"] = ba.BeginAtomicWrite()
	out["CommitAtomicWrite"] = ba.CommitAtomicWrite()
	out["RollbackAtomicWrite"] = ba.RollbackAtomicWrite()
	cp, ok := f.(vfs.FileCheckpoint)
	must(ok, "FileCheckpoint")
	cp.CheckpointStart()
	out["CheckpointStart"] = nil
	cp.CheckpointDone()
	out["CheckpointDone"] = nil
	pr, ok := f.(vfs.FilePragma)
	must(ok, "FilePragma")
	v, err := pr.Pragma("cache_size", "10")
	out["Pragma"] = [2]any{v, err}
	bh, ok := f.(vfs.FileBusyHandler)
	must(ok, "FileBusyHandler")
	bh.BusyHandler(func() bool { return false })
	out["BusyHandler"] = nil
	sm, ok := f.(vfs.FileSharedMemory)
	must(ok, "FileSharedMemory")
	out["SharedMemory"] = sm.SharedMemory()
	mm, ok := f.(vfs.FileMemoryMapper)
	must(ok, "FileMemoryMapper")
	out["MemoryMapper"] = mm.MemoryMapper()
	db, ok := f.(interface{ SetDB(any) })
	must(ok, "SetDB")
	db.SetDB(nil)
	out["SetDB"] = nil
	return out
}

func TestEveryCapabilityIsForwarded(t *testing.T) {
	base := &baseVFS{}
	fv := faultvfs.New(base, 1)
	fv.Add(faultvfs.Rule{Ops: faultvfs.OpAll &^ faultvfs.OpOpen}) // capabilities are never failed
	f, _, err := fv.Open("app.db", vfs.OPEN_MAIN_DB|vfs.OPEN_READWRITE)
	if err != nil {
		t.Fatal(err)
	}
	got := capabilities(t, f)
	rec := base.files[0]

	// Every capability reached the base file, once, in order.
	var want []string
	for _, name := range rec.calls {
		if _, ok := got[name]; !ok {
			t.Errorf("base saw unexpected call %s", name)
		}
	}
	for name := range got {
		want = append(want, name)
	}
	slices.Sort(want)
	calls := slices.Clone(rec.calls)
	slices.Sort(calls)
	if !slices.Equal(calls, want) {
		t.Fatalf("base saw %v, want each of %v once", rec.calls, want)
	}
	// And its answers came back.
	if got["LockState"] != vfs.LOCK_RESERVED || got["PersistWAL"] != true || got["PowersafeOverwrite"] != true ||
		got["HasMoved"] != [2]any{true, nil} || got["Pragma"] != [2]any{"cache_size=10", nil} {
		t.Fatalf("answers not forwarded: %v", got)
	}

	if u, ok := vfsutil.UnwrapFile[*recordingFile](f); !ok || u != rec {
		t.Fatal("vfsutil.UnwrapFile does not reach the base file")
	}
	if f.SectorSize() != 512 || f.DeviceCharacteristics() != vfs.IOCAP_ATOMIC512 {
		t.Fatal("sector size or device characteristics not forwarded")
	}
	if p, _ := fv.FullPathname("x"); p != "/full/x" {
		t.Fatalf("FullPathname = %q", p)
	}
}

func TestBareBaseFileGetsDefaults(t *testing.T) {
	fv := faultvfs.New(&baseVFS{bare: true}, 1)
	f, _, err := fv.Open("app.db", vfs.OPEN_MAIN_DB|vfs.OPEN_READWRITE)
	if err != nil {
		t.Fatal(err)
	}
	got := capabilities(t, f)
	if got["LockState"] != vfs.LOCK_EXCLUSIVE+1 {
		t.Errorf("LockState = %v, want unknown", got["LockState"])
	}
	for _, name := range []string{"SizeHint", "Overwrite", "SyncSuper", "CommitPhaseTwo", "BeginAtomicWrite", "CommitAtomicWrite", "RollbackAtomicWrite"} {
		if err, _ := got[name].(error); !errors.Is(err, sqlite3.NOTFOUND) {
			t.Errorf("%s = %v, want NOTFOUND", name, got[name])
		}
	}
	if got["SharedMemory"] != vfs.SharedMemory(nil) || got["MemoryMapper"] != vfs.MemoryMapper(nil) {
		t.Errorf("shared memory %v, mapper %v: want nil", got["SharedMemory"], got["MemoryMapper"])
	}
}

// TestFileOperationsFail drives each file operation directly and checks
// that the error names the operation and unwraps.
func TestFileOperationsFail(t *testing.T) {
	base := &baseVFS{}
	fv := faultvfs.New(base, 1)
	f, _, err := fv.Open("app.db-wal", vfs.OPEN_WAL|vfs.OPEN_READWRITE)
	if err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		op   faultvfs.Op
		call func() error
	}{
		{faultvfs.OpRead, func() error { _, err := f.ReadAt(make([]byte, 8), 0); return err }},
		{faultvfs.OpWrite, func() error { _, err := f.WriteAt(make([]byte, 8), 0); return err }},
		{faultvfs.OpSync, func() error { return f.Sync(vfs.SYNC_FULL) }},
		{faultvfs.OpTruncate, func() error { return f.Truncate(0) }},
		{faultvfs.OpLock, func() error { return f.Lock(vfs.LOCK_SHARED) }},
		{faultvfs.OpUnlock, func() error { return f.Unlock(vfs.LOCK_NONE) }},
		{faultvfs.OpCheckReservedLock, func() error { _, err := f.CheckReservedLock(); return err }},
		{faultvfs.OpSize, func() error { _, err := f.Size(); return err }},
	}
	// Without a rule every call reaches the base.
	for _, tt := range ops {
		if err := tt.call(); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("%v without a rule: %v", tt.op, err)
		}
	}
	if n := len(base.files[0].calls); n != len(ops) {
		t.Fatalf("base saw %v, want %d calls", base.files[0].calls, len(ops))
	}
	base.files[0].calls = nil

	fv.Add(faultvfs.Rule{Name: "all", Ops: faultvfs.OpAll, Kinds: faultvfs.KindWAL})
	for _, tt := range ops {
		err := tt.call()
		if err == nil {
			t.Errorf("%v: no error", tt.op)
			continue
		}
		var inj *faultvfs.InjectedError
		if tt.op == faultvfs.OpSize {
			// Tagged with vfs.SystemError, which does not unwrap.
			if want := `faultvfs: rule "all": injected EIO on size of app.db-wal`; err.Error() != want {
				t.Errorf("size: %q, want %q", err, want)
			}
			continue
		}
		if !errors.As(err, &inj) || inj.Op != tt.op || inj.Kind != faultvfs.KindWAL || !errors.Is(err, syscall.EIO) {
			t.Errorf("%v: %#v", tt.op, err)
		}
	}
	if st := fv.Stats(); st.Injected != int64(len(ops)) || st.Kind(faultvfs.KindWAL).Calls != 2*int64(len(ops))+1 {
		t.Errorf("stats:\n%v", st)
	}
	if len(base.files[0].calls) != 0 {
		t.Errorf("failed calls reached the base: %v", base.files[0].calls)
	}
	if _, _, err := fv.Open("app.db-wal", vfs.OPEN_WAL); !errors.Is(err, faultvfs.ErrInjected) {
		t.Errorf("open: %v", err)
	}
	if len(base.files) != 1 {
		t.Errorf("a failed open reached the base")
	}
}
