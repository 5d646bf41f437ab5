// Package errclass sorts the errors an application gets back from SQLite,
// walguard or the operating system by what retrying can do about them
// (see [policy.Class]). It is the one place in walguard that knows the
// shapes of ncruces/go-sqlite3's errors, so that package policy stays
// free of dependencies.
package errclass

import (
	"errors"
	"reflect"
	"strings"
	"syscall"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/policy"
)

// walguardClassifier is implemented by walguard's own errors, which know
// their class better than any code or errno they wrap.
type walguardClassifier interface{ WalguardClass() policy.Class }

// Classify sorts an error by what retrying can do about it. It accepts the
// errors applications get back from SQLite (*sqlite3.Error,
// sqlite3.ErrorCode, sqlite3.ExtendedErrorCode), the errors a VFS returns
// (syscall.Errno, *os.PathError, vfs.SystemError, the vfs package's own
// error codes) and any chain of them built with %w or errors.Join. A nil
// error is [ClassOther].
//
// The first rule that matches anywhere in the chain decides:
//
//  1. An error with a WalguardClass() policy.Class method, or a SQLITE_BUSY
//     *sqlite3.Error whose message contains [RefusalMarker], classifies
//     itself (walguard's refusals: usually [ClassMismatch]).
//  2. [ErrNoSharedMemory] is [ClassIncompatible].
//  3. A write-side or corruption code is [ClassOther], whatever errno it
//     carries: IOERR_WRITE, IOERR_FSYNC, IOERR_DIR_FSYNC, IOERR_TRUNCATE,
//     IOERR_DELETE, the atomic-write IOERR codes, IOERR_DATA,
//     IOERR_CORRUPTFS, FULL, CORRUPT and NOTADB. Once a write has failed,
//     SQLite rolls the transaction back and what reached the disk is
//     unknown (after a failed fsync the kernel may already have dropped
//     the dirty pages), so retrying the call could report success for data
//     that was lost. The error must reach the application as it is.
//  4. A system errno decides by itself, whatever operation met it:
//     EIO, EINTR, EAGAIN/EWOULDBLOCK, ENOMEM, ETIMEDOUT, EBUSY, ENOSPC and
//     EDQUOT are [ClassTransient] (on Windows also ERROR_LOCK_VIOLATION,
//     ERROR_SHARING_VIOLATION and ERROR_DISK_FULL); ENOLCK, ENOSYS and
//     EOPNOTSUPP/ENOTSUP are [ClassIncompatible]; ENOENT, ENOTDIR, EISDIR,
//     ENAMETOOLONG, ELOOP, EACCES, EPERM, EROFS, ENXIO and ENODEV (a path
//     or a permission that will not change by waiting) are [ClassOther],
//     even under a code that rule 5 would call transient (an
//     IOERR_FSTAT of a missing file is not retried). Other errnos leave
//     the decision to the SQLite code. This is what makes a
//     SQLITE_CANTOPEN transient exactly when the system error under it is.
//  5. A SQLite code: BUSY and LOCKED (with their extended codes), bare
//     IOERR, and the read, lock, shared-memory and metadata IOERR codes
//     (IOERR_READ, IOERR_SHORT_READ, IOERR_LOCK, IOERR_RDLOCK,
//     IOERR_UNLOCK, IOERR_CHECKRESERVEDLOCK, IOERR_SHMMAP, IOERR_SHMLOCK,
//     IOERR_SHMSIZE, IOERR_SHMOPEN, IOERR_NOMEM, IOERR_ACCESS,
//     IOERR_FSTAT, IOERR_SEEK, IOERR_GETTEMPPATH) are [ClassTransient];
//     PROTOCOL and AUTH are [ClassIncompatible].
//
// Everything else is [ClassOther]. Within one rule the outermost error in
// the chain wins.
//
// https://sqlite.org/rescode.html
func Classify(err error) policy.Class {
	if err == nil {
		return policy.ClassOther
	}
	var f chainFacts
	walkChain(err, f.observe)
	return f.class()
}

// Retryable reports whether retrying the operation that returned err can
// succeed: Classify(err).Retryable().
func Retryable(err error) bool { return Classify(err).Retryable() }

// Describe says in a few words what retrying can do about err, for error
// messages and logs.
func Describe(err error) string {
	switch Classify(err) {
	case policy.ClassTransient:
		return "transient: retrying can help"
	case policy.ClassIncompatible:
		return "incompatible: retrying will fail the same way"
	case policy.ClassMismatch:
		return "mismatch: retry after the other participants close or agree"
	}
	return "other: not retryable"
}

// chainFacts collects, from one walk over an error chain, what each rule
// of Classify needs.
type chainFacts struct {
	self       policy.Class
	hasSelf    bool
	noShm      bool
	writeSide  bool
	errnoClass policy.Class // policy.ClassOther until a classified errno is seen
	errnoFinal bool         // an errno was classified, ClassOther included
	code       uint16
	hasCode    bool
}

func (f *chainFacts) observe(err error) (stop bool) {
	if isNilPointer(err) {
		return false
	}
	if c, ok := err.(walguardClassifier); ok {
		f.self, f.hasSelf = c.WalguardClass(), true
		return true
	}
	if err == policy.ErrNoSharedMemory {
		f.noShm = true
	}
	if errno, ok := err.(syscall.Errno); ok && !f.errnoFinal {
		f.errnoClass, f.errnoFinal = errnoClass(errno)
	}
	if e, ok := err.(*sqlite3.Error); ok && e.Code() == sqlite3.BUSY &&
		strings.Contains(e.Error(), policy.RefusalMarker) {
		f.self, f.hasSelf = policy.ClassMismatch, true
		return true
	}
	if code, ok := sqliteCode(err); ok {
		if writeSideCode(code) {
			f.writeSide = true
		}
		if !f.hasCode {
			f.code, f.hasCode = code, true
		}
	}
	return false
}

func (f *chainFacts) class() policy.Class {
	switch {
	case f.hasSelf:
		return f.self
	case f.noShm:
		return policy.ClassIncompatible
	case f.writeSide:
		return policy.ClassOther
	case f.errnoFinal:
		return f.errnoClass
	case f.hasCode:
		return codeClass(f.code)
	}
	return policy.ClassOther
}

// maxChainErrors bounds the walk over a chain, so that an error whose
// Unwrap returns itself (or a cycle) cannot loop forever.
const maxChainErrors = 256

// walkChain calls visit on err and on every error it wraps, depth first,
// outermost first, looking inside vfs.SystemError values too. It stops
// when visit returns true.
func walkChain(err error, visit func(error) bool) {
	budget := maxChainErrors
	var walk func(error) bool
	walk = func(err error) bool {
		if err == nil || budget <= 0 {
			return budget <= 0
		}
		budget--
		if visit(err) {
			return true
		}
		if isNilPointer(err) {
			return false
		}
		if inner, _, ok := unpackSystemError(err); ok {
			return walk(inner)
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			return walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	walk(err)
}

// isNilPointer reports whether err is a typed nil pointer, whose methods
// (Unwrap in particular) usually dereference it and panic.
func isNilPointer(err error) bool {
	v := reflect.ValueOf(err)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// sqliteCode returns the (extended) SQLite result code an error stands
// for. Besides the sqlite3 types it accepts what the vfs package turns
// into a code: its own unexported code type, the code of a
// vfs.SystemError, and any error whose kind is uint8 or uint16.
func sqliteCode(err error) (uint16, bool) {
	switch e := err.(type) {
	case *sqlite3.Error:
		return uint16(e.ExtendedCode()), true
	case sqlite3.ErrorCode:
		return uint16(e), true
	case sqlite3.ExtendedErrorCode:
		return uint16(e), true
	}
	if _, code, ok := unpackSystemError(err); ok {
		return code, true
	}
	v := reflect.ValueOf(err)
	switch {
	case v.Type() == vfsCodeType && vfsCodeType != nil,
		v.Kind() == reflect.Uint8, v.Kind() == reflect.Uint16:
		if c := v.Uint(); c <= 0xffff {
			return uint16(c), true
		}
	}
	return 0, false
}

// writeSideCode reports whether a code means that a write, a sync or a
// commit failed, or that the database is damaged: rule 3 of Classify.
func writeSideCode(code uint16) bool {
	switch sqlite3.ErrorCode(code) {
	case sqlite3.FULL, sqlite3.CORRUPT, sqlite3.NOTADB:
		return true
	}
	switch sqlite3.ExtendedErrorCode(code) {
	case sqlite3.IOERR_WRITE, sqlite3.IOERR_FSYNC, sqlite3.IOERR_DIR_FSYNC,
		sqlite3.IOERR_TRUNCATE, sqlite3.IOERR_DELETE,
		sqlite3.IOERR_BEGIN_ATOMIC, sqlite3.IOERR_COMMIT_ATOMIC, sqlite3.IOERR_ROLLBACK_ATOMIC,
		sqlite3.IOERR_DATA, sqlite3.IOERR_CORRUPTFS:
		return true
	}
	return false
}

// codeClass is rule 5 of Classify.
func codeClass(code uint16) policy.Class {
	switch sqlite3.ErrorCode(code) {
	case sqlite3.BUSY, sqlite3.LOCKED:
		return policy.ClassTransient
	case sqlite3.PROTOCOL, sqlite3.AUTH:
		return policy.ClassIncompatible
	}
	switch sqlite3.ExtendedErrorCode(code) {
	case sqlite3.ExtendedErrorCode(sqlite3.IOERR),
		sqlite3.IOERR_READ, sqlite3.IOERR_SHORT_READ,
		sqlite3.IOERR_LOCK, sqlite3.IOERR_RDLOCK, sqlite3.IOERR_UNLOCK, sqlite3.IOERR_CHECKRESERVEDLOCK,
		sqlite3.IOERR_SHMMAP, sqlite3.IOERR_SHMLOCK, sqlite3.IOERR_SHMSIZE, sqlite3.IOERR_SHMOPEN,
		sqlite3.IOERR_NOMEM, sqlite3.IOERR_ACCESS, sqlite3.IOERR_FSTAT, sqlite3.IOERR_SEEK,
		sqlite3.IOERR_GETTEMPPATH:
		return policy.ClassTransient
	}
	return policy.ClassOther
}

// errnoClass is rule 4 of Classify; the tables are per platform. known is
// false for an errno in no table, which leaves the decision to the code.
func errnoClass(errno syscall.Errno) (c policy.Class, known bool) {
	for _, e := range transientErrnos {
		if errno == e {
			return policy.ClassTransient, true
		}
	}
	for _, e := range incompatibleErrnos {
		if errno == e {
			return policy.ClassIncompatible, true
		}
	}
	for _, e := range permanentErrnos {
		if errno == e {
			return policy.ClassOther, true
		}
	}
	return policy.ClassOther, false
}

// systemErrorType is the type vfs.SystemError returns: an unexported
// struct that embeds the OS error next to a code and has no Unwrap method,
// so errors.As cannot look inside it.
var systemErrorType = reflect.TypeOf(vfs.SystemError(errors.New("probe"), sqlite3.IOERR))

// vfsCodeType is the vfs package's unexported code type, which its base
// files return bare (SQLITE_BUSY from a lock, for one): the type of the
// code field of a vfs.SystemError. Nil if the layout ever changes.
var vfsCodeType = func() reflect.Type {
	if systemErrorType == nil || systemErrorType.Kind() != reflect.Struct {
		return nil
	}
	for i := range systemErrorType.NumField() {
		if t := systemErrorType.Field(i).Type; t.Kind() == reflect.Uint32 {
			return t
		}
	}
	return nil
}()

var errorInterface = reflect.TypeFor[error]()

// unpackSystemError returns the OS error and the code that vfs.SystemError
// put together, and ok false for any other error.
//
// The fields are unexported, so this reads them by reflection from a copy
// of the value: the code with Value.Uint, which reflection allows on
// unexported fields, and the error through a pointer to the copy's field,
// which is sound because the pointer has the field's own type. It only
// acts on the exact type vfs.SystemError returns and checks every kind on
// the way, so an unexpected layout (a later ncruces release) yields ok
// false rather than a panic; the recover is a last guard for the same.
func unpackSystemError(err error) (inner error, code uint16, ok bool) {
	if err == nil || systemErrorType == nil || reflect.TypeOf(err) != systemErrorType ||
		systemErrorType.Kind() != reflect.Struct {
		return nil, 0, false
	}
	defer func() {
		if recover() != nil {
			inner, code, ok = nil, 0, false
		}
	}()
	v := reflect.New(systemErrorType).Elem()
	v.Set(reflect.ValueOf(err))
	var haveErr, haveCode bool
	for i := range v.NumField() {
		field := v.Field(i)
		switch t := field.Type(); {
		case t == errorInterface && !haveErr:
			inner, _ = reflect.NewAt(t, field.Addr().UnsafePointer()).Elem().Interface().(error)
			haveErr = true
		case (t.Kind() == reflect.Uint8 || t.Kind() == reflect.Uint16 || t.Kind() == reflect.Uint32) && !haveCode:
			c := field.Uint()
			if c > 0xffff {
				return nil, 0, false
			}
			code, haveCode = uint16(c), true
		}
	}
	if !haveErr || !haveCode {
		return nil, 0, false
	}
	return inner, code, true
}

// Code returns the extended SQLite result code err stands for, in any of
// the forms the ncruces API and VFS layer use (sqlite3.Error, the code
// types, vfs.SystemError, the vfs package's own code type). It looks at
// err itself, not its chain.
func Code(err error) (sqlite3.ExtendedErrorCode, bool) {
	if err == nil {
		return 0, false
	}
	c, ok := sqliteCode(err)
	return sqlite3.ExtendedErrorCode(c), ok
}
