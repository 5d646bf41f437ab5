package errclass

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/policy"
)

// selfClassified stands for walguard's refusal errors.
type selfClassified struct {
	class policy.Class
	err   error
}

func (e selfClassified) Error() string               { return "refused: " + e.class.String() }
func (e selfClassified) Unwrap() error               { return e.err }
func (e selfClassified) WalguardClass() policy.Class { return e.class }

func pathErr(errno syscall.Errno) error {
	return &os.PathError{Op: "open", Path: "/data/app.db-wal", Err: errno}
}

func TestClassifySystemErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want policy.Class
	}{
		{"nil", nil, policy.ClassOther},
		{"EIO", syscall.EIO, policy.ClassTransient},
		{"EINTR", syscall.EINTR, policy.ClassTransient},
		{"EAGAIN", syscall.EAGAIN, policy.ClassTransient},
		{"EWOULDBLOCK", syscall.EWOULDBLOCK, policy.ClassTransient},
		{"ENOMEM", syscall.ENOMEM, policy.ClassTransient},
		{"ETIMEDOUT", syscall.ETIMEDOUT, policy.ClassTransient},
		{"EBUSY", syscall.EBUSY, policy.ClassTransient},
		{"ENOLCK", syscall.ENOLCK, policy.ClassIncompatible},
		{"ENOSYS", syscall.ENOSYS, policy.ClassIncompatible},
		{"EOPNOTSUPP", syscall.EOPNOTSUPP, policy.ClassIncompatible},
		{"ENOTSUP", syscall.ENOTSUP, policy.ClassIncompatible},
		{"ENOENT", syscall.ENOENT, policy.ClassOther},
		{"EACCES", syscall.EACCES, policy.ClassOther},
		{"ENOSPC: space is freed", syscall.ENOSPC, policy.ClassTransient},
		{"EDQUOT", syscall.EDQUOT, policy.ClassTransient},
		{"ENOTDIR", syscall.ENOTDIR, policy.ClassOther},
		{"EROFS", syscall.EROFS, policy.ClassOther},
		{"path error EIO", pathErr(syscall.EIO), policy.ClassTransient},
		{"path error ENOLCK", pathErr(syscall.ENOLCK), policy.ClassIncompatible},
		{"path error ENOENT", pathErr(syscall.ENOENT), policy.ClassOther},
		{"syscall error EAGAIN", &os.SyscallError{Syscall: "fcntl", Err: syscall.EAGAIN}, policy.ClassTransient},
		{"wrapped path error", fmt.Errorf("open -wal: %w", pathErr(syscall.EINTR)), policy.ClassTransient},
		{"joined", errors.Join(errors.New("first"), pathErr(syscall.EIO)), policy.ClassTransient},
		{"fs.ErrNotExist", fs.ErrNotExist, policy.ClassOther},
		{"plain", errors.New("disk I/O error"), policy.ClassOther},
		{"no shared memory", policy.ErrNoSharedMemory, policy.ClassIncompatible},
		{"wrapped no shared memory", fmt.Errorf("/nfs/app.db: %w", policy.ErrNoSharedMemory), policy.ClassIncompatible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassifySQLiteCodes(t *testing.T) {
	transient := []sqlite3.ExtendedErrorCode{
		sqlite3.ExtendedErrorCode(sqlite3.BUSY), sqlite3.BUSY_RECOVERY, sqlite3.BUSY_SNAPSHOT, sqlite3.BUSY_TIMEOUT,
		sqlite3.ExtendedErrorCode(sqlite3.LOCKED), sqlite3.LOCKED_SHAREDCACHE, sqlite3.LOCKED_VTAB,
		sqlite3.ExtendedErrorCode(sqlite3.IOERR),
		sqlite3.IOERR_READ, sqlite3.IOERR_SHORT_READ, sqlite3.IOERR_LOCK, sqlite3.IOERR_RDLOCK,
		sqlite3.IOERR_UNLOCK, sqlite3.IOERR_CHECKRESERVEDLOCK, sqlite3.IOERR_SHMMAP, sqlite3.IOERR_SHMLOCK,
		sqlite3.IOERR_SHMSIZE, sqlite3.IOERR_SHMOPEN, sqlite3.IOERR_NOMEM, sqlite3.IOERR_ACCESS,
		sqlite3.IOERR_FSTAT, sqlite3.IOERR_SEEK, sqlite3.IOERR_GETTEMPPATH,
	}
	incompatible := []sqlite3.ExtendedErrorCode{
		sqlite3.ExtendedErrorCode(sqlite3.PROTOCOL), sqlite3.ExtendedErrorCode(sqlite3.AUTH), sqlite3.AUTH_USER,
	}
	other := []sqlite3.ExtendedErrorCode{
		sqlite3.IOERR_WRITE, sqlite3.IOERR_FSYNC, sqlite3.IOERR_DIR_FSYNC, sqlite3.IOERR_TRUNCATE,
		sqlite3.IOERR_DELETE, sqlite3.IOERR_COMMIT_ATOMIC, sqlite3.IOERR_DATA, sqlite3.IOERR_CORRUPTFS,
		sqlite3.IOERR_CLOSE, sqlite3.IOERR_MMAP, sqlite3.IOERR_DELETE_NOENT,
		sqlite3.ExtendedErrorCode(sqlite3.FULL), sqlite3.ExtendedErrorCode(sqlite3.CORRUPT), sqlite3.CORRUPT_INDEX,
		sqlite3.ExtendedErrorCode(sqlite3.NOTADB), sqlite3.ExtendedErrorCode(sqlite3.CANTOPEN),
		sqlite3.CANTOPEN_ISDIR, sqlite3.ExtendedErrorCode(sqlite3.ERROR), sqlite3.ExtendedErrorCode(sqlite3.READONLY),
		sqlite3.ExtendedErrorCode(sqlite3.CONSTRAINT), sqlite3.ExtendedErrorCode(sqlite3.PERM),
	}
	check := func(codes []sqlite3.ExtendedErrorCode, want policy.Class) {
		for _, code := range codes {
			if got := Classify(code); got != want {
				t.Errorf("Classify(ExtendedErrorCode %v) = %v, want %v", code, got, want)
			}
			// The primary code alone, as SQLite returns it without extended codes.
			if primary := sqlite3.ErrorCode(code); sqlite3.ExtendedErrorCode(primary) == code {
				if got := Classify(primary); got != want {
					t.Errorf("Classify(ErrorCode %v) = %v, want %v", primary, got, want)
				}
			}
			if got := Classify(fmt.Errorf("exec: %w", code)); got != want {
				t.Errorf("Classify(wrapped %v) = %v, want %v", code, got, want)
			}
		}
	}
	check(transient, policy.ClassTransient)
	check(incompatible, policy.ClassIncompatible)
	check(other, policy.ClassOther)
}

func TestClassifyPriority(t *testing.T) {
	mismatch := selfClassified{class: policy.ClassMismatch}
	tests := []struct {
		name string
		err  error
		want policy.Class
	}{
		// vfs.SystemError, as the base VFS and the shim build them.
		{"EIO read", vfs.SystemError(pathErr(syscall.EIO), sqlite3.IOERR_READ), policy.ClassTransient},
		{"ENOENT read: errno beats code", vfs.SystemError(pathErr(syscall.ENOENT), sqlite3.IOERR_READ), policy.ClassOther},
		{"ENOENT fstat (modeof=/missing): errno beats code", vfs.SystemError(&os.PathError{Op: "stat", Path: "/missing", Err: syscall.ENOENT}, sqlite3.IOERR_FSTAT), policy.ClassOther},
		{"EACCES lock: errno beats code", vfs.SystemError(pathErr(syscall.EACCES), sqlite3.IOERR_LOCK), policy.ClassOther},
		{"ENOSPC on a sidecar write", &os.PathError{Op: "write", Path: "/data/app.db-walguard", Err: syscall.ENOSPC}, policy.ClassTransient},
		{"ENOSPC write: write side beats errno", vfs.SystemError(pathErr(syscall.ENOSPC), sqlite3.IOERR_WRITE), policy.ClassOther},
		{"EIO read: errno and code agree", vfs.SystemError(pathErr(syscall.EIO), sqlite3.IOERR_READ), policy.ClassTransient},
		{"ENOLCK lock: errno beats code", vfs.SystemError(syscall.ENOLCK, sqlite3.IOERR_LOCK), policy.ClassIncompatible},
		{"EIO cantopen", vfs.SystemError(pathErr(syscall.EIO), sqlite3.CANTOPEN), policy.ClassTransient},
		{"ENOENT cantopen", vfs.SystemError(pathErr(syscall.ENOENT), sqlite3.CANTOPEN), policy.ClassOther},
		{"EACCES cantopen", vfs.SystemError(pathErr(syscall.EACCES), sqlite3.CANTOPEN), policy.ClassOther},
		{"plain cantopen", vfs.SystemError(errors.New("no"), sqlite3.CANTOPEN), policy.ClassOther},
		{"plain protocol", vfs.SystemError(errors.New("no"), sqlite3.PROTOCOL), policy.ClassIncompatible},
		{"EIO shmmap", vfs.SystemError(syscall.EIO, sqlite3.IOERR_SHMMAP), policy.ClassTransient},
		{"EIO write: write side beats errno", vfs.SystemError(pathErr(syscall.EIO), sqlite3.IOERR_WRITE), policy.ClassOther},
		{"EIO fsync", vfs.SystemError(syscall.EIO, sqlite3.IOERR_FSYNC), policy.ClassOther},
		{"EINTR truncate", vfs.SystemError(syscall.EINTR, sqlite3.IOERR_TRUNCATE), policy.ClassOther},
		{"ENOSPC full", vfs.SystemError(syscall.ENOSPC, sqlite3.FULL), policy.ClassOther},
		{"wrapped system error", fmt.Errorf("open: %w", vfs.SystemError(pathErr(syscall.EIO), sqlite3.IOERR_FSTAT)), policy.ClassTransient},
		{"joined write side", errors.Join(syscall.EIO, sqlite3.IOERR_WRITE), policy.ClassOther},
		{"no shm inside system error", vfs.SystemError(policy.ErrNoSharedMemory, sqlite3.IOERR_SHMMAP), policy.ClassIncompatible},
		// walguard's own errors classify themselves.
		{"self", mismatch, policy.ClassMismatch},
		{"self wrapping ENOLCK", selfClassified{class: policy.ClassTransient, err: syscall.ENOLCK}, policy.ClassTransient},
		{"self inside system error", vfs.SystemError(mismatch, sqlite3.IOERR_WRITE), policy.ClassMismatch},
		{"self joined with EIO", errors.Join(syscall.EIO, mismatch), policy.ClassMismatch},
		{"outermost self wins", selfClassified{class: policy.ClassIncompatible, err: mismatch}, policy.ClassIncompatible},
		{"self over no shm", fmt.Errorf("x: %w", selfClassified{class: policy.ClassMismatch, err: policy.ErrNoSharedMemory}), policy.ClassMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestUnpackSystemError(t *testing.T) {
	inner := pathErr(syscall.EIO)
	tests := []struct {
		err  error
		code uint16
	}{
		{vfs.SystemError(inner, sqlite3.IOERR_SHMMAP), uint16(sqlite3.IOERR_SHMMAP)},
		{vfs.SystemError(inner, sqlite3.CANTOPEN), uint16(sqlite3.CANTOPEN)},
		{vfs.SystemError(inner, sqlite3.BUSY_SNAPSHOT), uint16(sqlite3.BUSY_SNAPSHOT)},
	}
	for _, tt := range tests {
		got, code, ok := unpackSystemError(tt.err)
		if !ok || got != inner || code != tt.code {
			t.Errorf("unpackSystemError(%v) = %v, %d, %v; want %v, %d, true", tt.err, got, code, ok, inner, tt.code)
		}
	}
	for _, err := range []error{nil, inner, sqlite3.BUSY, fmt.Errorf("%w", tt0(inner))} {
		if got, code, ok := unpackSystemError(err); ok {
			t.Errorf("unpackSystemError(%#v) = %v, %d, true; want ok false", err, got, code)
		}
	}
}

// tt0 builds a system error for the negative cases above.
func tt0(err error) error { return vfs.SystemError(err, sqlite3.IOERR) }

// Errors with shapes the classifier must survive without a panic.
type (
	lookalike struct { // the layout of vfs's sysError, another type
		error
		code uint32
	}
	oddStruct struct {
		error
		code  uint64
		table map[string]int
		next  *oddStruct
	}
	oddCode   uint32
	oddWide   uint64
	oddString string
	oddFunc   func()
	oddPtr    struct{ err error }
	selfLoop  struct{}
	manyNils  struct{}
)

func (e oddCode) Error() string                  { return "odd code" }
func (e oddWide) Error() string                  { return "odd wide" }
func (e oddString) Error() string                { return string(e) }
func (e oddFunc) Error() string                  { return "odd func" }
func (e *oddPtr) Error() string                  { return e.err.Error() }
func (e *oddPtr) Unwrap() error                  { return e.err }
func (e *selfLoop) Error() string                { return "loop" }
func (e *selfLoop) Unwrap() error                { return e }
func (e manyNils) Error() string                 { return "nils" }
func (e manyNils) Unwrap() []error               { return []error{nil, nil, syscall.EIO} }
func (e *oddStruct) WalguardClass() policy.Class { return policy.ClassMismatch }

func TestClassifyOddErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want policy.Class
	}{
		{"sysError lookalike is not unpacked", lookalike{syscall.EIO, uint32(sqlite3.PROTOCOL)}, policy.ClassOther},
		{"struct with unexpected fields", oddStruct{error: syscall.EIO, code: 1 << 40}, policy.ClassOther},
		{"struct embedding nil error", oddStruct{}, policy.ClassOther},
		{"typed nil self-classifier", (*oddStruct)(nil), policy.ClassOther},
		{"uint32 code of another package", oddCode(sqlite3.BUSY), policy.ClassOther},
		{"uint64 kind", oddWide(5), policy.ClassOther},
		{"string kind", oddString("walguard refused"), policy.ClassOther},
		{"func kind", oddFunc(nil), policy.ClassOther},
		{"typed nil path error", (*os.PathError)(nil), policy.ClassOther},
		{"wrapped typed nil", fmt.Errorf("x: %w", (*os.PathError)(nil)), policy.ClassOther},
		{"typed nil unwrapper", (*oddPtr)(nil), policy.ClassOther},
		{"unwrapper to nil", &oddPtr{}, policy.ClassOther},
		{"self loop", &selfLoop{}, policy.ClassOther},
		{"nils in a join", manyNils{}, policy.ClassTransient},
		{"system error around odd", vfs.SystemError(oddStruct{}, sqlite3.IOERR_READ), policy.ClassTransient},
		{"system error around typed nil", vfs.SystemError((*os.PathError)(nil), sqlite3.IOERR_WRITE), policy.ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%T) = %v, want %v", tt.err, got, tt.want)
			}
			_ = Describe(tt.err)
		})
	}
}

func TestDescribeAndRetryable(t *testing.T) {
	tests := []struct {
		err       error
		describe  string
		retryable bool
	}{
		{syscall.EIO, "transient: retrying can help", true},
		{sqlite3.PROTOCOL, "incompatible: retrying will fail the same way", false},
		{selfClassified{class: policy.ClassMismatch}, "mismatch: retry after the other participants close or agree", true},
		{sqlite3.IOERR_FSYNC, "other: not retryable", false},
		{nil, "other: not retryable", false},
	}
	for _, tt := range tests {
		if got := Describe(tt.err); got != tt.describe {
			t.Errorf("Describe(%v) = %q, want %q", tt.err, got, tt.describe)
		}
		if got := Retryable(tt.err); got != tt.retryable {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.retryable)
		}
	}
}

// faultVFS wraps the os VFS and injects faults into the main database
// file, so that SQLite builds real errors out of them.
type faultVFS struct {
	base      vfs.VFSFilename
	lockErr   atomic.Pointer[error] // the last error of the base file's Lock
	openErr   atomic.Pointer[error]
	readErr   atomic.Pointer[error]
	writeErr  atomic.Pointer[error]
	pragmaMsg atomic.Pointer[string]
}

type faultFile struct {
	vfs.File
	v *faultVFS
}

func (v *faultVFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	return v.base.Open(name, flags)
}

func (v *faultVFS) Delete(name string, syncDir bool) error { return v.base.Delete(name, syncDir) }

func (v *faultVFS) Access(name string, flags vfs.AccessFlag) (bool, error) {
	return v.base.Access(name, flags)
}

func (v *faultVFS) FullPathname(name string) (string, error) { return v.base.FullPathname(name) }

func (v *faultVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	if flags&vfs.OPEN_MAIN_DB != 0 {
		if err := v.openErr.Load(); err != nil {
			return nil, flags, *err
		}
	}
	f, flags, err := v.base.OpenFilename(name, flags)
	if err != nil || flags&vfs.OPEN_MAIN_DB == 0 {
		return f, flags, err
	}
	return faultFile{f, v}, flags, nil
}

func (f faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.v.readErr.Load(); err != nil {
		return 0, *err
	}
	return f.File.ReadAt(p, off)
}

func (f faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.v.writeErr.Load(); err != nil {
		return 0, *err
	}
	return f.File.WriteAt(p, off)
}

func (f faultFile) Lock(l vfs.LockLevel) error {
	err := f.File.Lock(l)
	if err != nil {
		f.v.lockErr.Store(&err)
	}
	return err
}

func (f faultFile) Pragma(name, value string) (string, error) {
	if msg := f.v.pragmaMsg.Load(); msg != nil && name == "fault_test" {
		return *msg, sqlite3.BUSY
	}
	return "", sqlite3.NOTFOUND
}

var faultVFSCount atomic.Int64

func newFaultVFS(t *testing.T) (*faultVFS, string) {
	t.Helper()
	base, ok := vfs.Find("os").(vfs.VFSFilename)
	if !ok {
		t.Fatal(`vfs "os" does not open Filenames`)
	}
	v := &faultVFS{base: base}
	name := fmt.Sprintf("policy-fault-%d", faultVFSCount.Add(1))
	vfs.Register(name, v)
	t.Cleanup(func() { vfs.Unregister(name) })
	return v, name
}

func ptr[T any](v T) *T { return &v }

// TestClassifyRealSQLiteErrors classifies errors as a real sqlite3.Conn
// returns them, with the OS error SQLite kept.
func TestClassifyRealSQLiteErrors(t *testing.T) {
	dir := t.TempDir()
	fault, vfsName := newFaultVFS(t)
	uri := func(name string) string {
		return "file:" + filepath.ToSlash(filepath.Join(dir, name)) + "?vfs=" + vfsName
	}
	openConn := func(t *testing.T, name string) *sqlite3.Conn {
		t.Helper()
		c, err := sqlite3.Open(uri(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	mustExec := func(t *testing.T, c *sqlite3.Conn, sql string) {
		t.Helper()
		if err := c.Exec(sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	type result struct {
		err    error
		code   error         // the code errors.Is must find; nil to skip
		errno  syscall.Errno // the OS error errors.Is must find, if any
		want   policy.Class
		marker bool
	}
	cases := map[string]func(t *testing.T) result{
		"cantopen read-only missing dir": func(t *testing.T) result {
			_, err := sqlite3.OpenFlags(filepath.Join(dir, "missing", "x.db"), sqlite3.OPEN_READONLY)
			return result{err: err, code: sqlite3.CANTOPEN, errno: syscall.ENOENT, want: policy.ClassOther}
		},
		"cantopen on EIO": func(t *testing.T) result {
			fault.openErr.Store(ptr(pathErr(syscall.EIO)))
			defer fault.openErr.Store(nil)
			_, err := sqlite3.Open(uri("eio-open.db"))
			return result{err: err, code: sqlite3.CANTOPEN, errno: syscall.EIO, want: policy.ClassTransient}
		},
		"busy between two connections": func(t *testing.T) result {
			a, b := openConn(t, "busy.db"), openConn(t, "busy.db")
			mustExec(t, a, "BEGIN EXCLUSIVE")
			defer a.Exec("ROLLBACK")
			fault.lockErr.Store(nil)
			err := b.Exec("BEGIN EXCLUSIVE")
			return result{err: err, code: sqlite3.BUSY, want: policy.ClassTransient}
		},
		"busy from the base file's lock": func(t *testing.T) result {
			a, b := openConn(t, "lock.db"), openConn(t, "lock.db")
			mustExec(t, a, "BEGIN EXCLUSIVE")
			defer a.Exec("ROLLBACK")
			fault.lockErr.Store(nil)
			if err := b.Exec("BEGIN EXCLUSIVE"); err == nil {
				t.Fatal("second BEGIN EXCLUSIVE succeeded")
			}
			lockErr := fault.lockErr.Load()
			if lockErr == nil {
				t.Fatal("the base file's Lock returned no error")
			}
			// The base VFS returns its own unexported code type, which
			// errors.Is cannot match against sqlite3.BUSY.
			if typ := reflect.TypeOf(*lockErr); typ.PkgPath() != "github.com/ncruces/go-sqlite3/vfs" ||
				reflect.ValueOf(*lockErr).Uint() != uint64(sqlite3.BUSY) {
				t.Fatalf("base Lock returned %T %v, want the vfs package's BUSY", *lockErr, *lockErr)
			}
			return result{err: *lockErr, want: policy.ClassTransient}
		},
		"read EIO": func(t *testing.T) result {
			c := openConn(t, "read.db")
			mustExec(t, c, "CREATE TABLE t(x); INSERT INTO t VALUES (1)")
			c.Close()
			c = openConn(t, "read.db")
			fault.readErr.Store(ptr(pathErr(syscall.EIO)))
			defer fault.readErr.Store(nil)
			err := c.Exec("SELECT * FROM t")
			// SQLite's later VFS calls (the unlock) clear the OS error
			// ncruces keeps, so the application gets the bare code.
			return result{err: err, code: sqlite3.IOERR_READ, want: policy.ClassTransient}
		},
		"write EIO is reported as is": func(t *testing.T) result {
			c := openConn(t, "write.db")
			mustExec(t, c, "CREATE TABLE t(x)")
			fault.writeErr.Store(ptr(pathErr(syscall.EIO)))
			defer fault.writeErr.Store(nil)
			err := c.Exec("INSERT INTO t VALUES (1)")
			return result{err: err, code: sqlite3.IOERR_WRITE, want: policy.ClassOther}
		},
		"busy refusal with marker": func(t *testing.T) result {
			c := openConn(t, "refusal.db")
			fault.pragmaMsg.Store(ptr(policy.RefusalMarker + " journal_mode=delete on refusal.db: downgrade while WAL in use"))
			defer fault.pragmaMsg.Store(nil)
			err := c.Exec("PRAGMA fault_test")
			return result{err: err, code: sqlite3.BUSY, want: policy.ClassMismatch, marker: true}
		},
		"busy message without marker": func(t *testing.T) result {
			c := openConn(t, "plainbusy.db")
			fault.pragmaMsg.Store(ptr("somebody else holds it"))
			defer fault.pragmaMsg.Store(nil)
			err := c.Exec("PRAGMA fault_test")
			return result{err: err, code: sqlite3.BUSY, want: policy.ClassTransient}
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			r := run(t)
			if r.err == nil {
				t.Fatal("no error")
			}
			if r.code != nil && !errors.Is(r.err, r.code) {
				t.Fatalf("got %T %q, want code %v", r.err, r.err, r.code)
			}
			if r.errno != 0 && !errors.Is(r.err, r.errno) {
				t.Fatalf("got %T %q, want errno %v inside", r.err, r.err, r.errno)
			}
			if r.marker != strings.Contains(r.err.Error(), policy.RefusalMarker) {
				t.Fatalf("marker in %q: %v, want %v", r.err, !r.marker, r.marker)
			}
			if got := Classify(r.err); got != r.want {
				t.Errorf("Classify(%T %q) = %v, want %v", r.err, r.err, got, r.want)
			}
			if got := Classify(fmt.Errorf("app: %w", r.err)); got != r.want {
				t.Errorf("Classify(wrapped %q) = %v, want %v", r.err, got, r.want)
			}
		})
	}
}

// An application that gets an error back decides whether to retry from
// its class, never from its text.
func ExampleClassify() {
	errs := []error{
		&os.PathError{Op: "open", Path: "app.db-wal", Err: syscall.EIO},
		sqlite3.BUSY,
		sqlite3.IOERR_FSYNC,
		fmt.Errorf("set wal: %w", sqlite3.PROTOCOL),
		fmt.Errorf("open app.db: %w", policy.ErrNoSharedMemory),
	}
	for _, err := range errs {
		fmt.Printf("%v -> %s\n", err, Describe(err))
	}
	// Output:
	// open app.db-wal: input/output error -> transient: retrying can help
	// sqlite3: database is locked -> transient: retrying can help
	// sqlite3: disk I/O error -> other: not retryable
	// set wal: sqlite3: locking protocol -> incompatible: retrying will fail the same way
	// open app.db: filesystem does not share memory between processes -> incompatible: retrying will fail the same way
}
