package vfs_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
	wgvfs "github.com/walguard/walguard/vfs"
)

func TestSidecarSymlinkRefused(t *testing.T) {
	path := tempDB(t)
	target := filepath.Join(filepath.Dir(path), "elsewhere")
	if err := os.Symlink(target, sidecar.SidecarPath(path)); err != nil {
		t.Fatal(err)
	}
	name, _ := registerTestVFS(t, wgvfs.Options{})
	_, err := sqlite3.Open(dsn(path, name))
	var refusal *wgvfs.RefusalError
	if !errors.As(err, &refusal) || !errors.Is(err, sidecar.ErrSymlink) {
		t.Fatalf("open = %v, want a refusal wrapping ErrSymlink", err)
	}
	if !strings.Contains(err.Error(), path) || refusal.Op != "open" {
		t.Fatalf("error %q does not name the database and the operation", err)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("the symlink was followed: %v", err)
	}
}

func TestUnavailableSidecarIsAClearError(t *testing.T) {
	name, _ := registerTestVFS(t, wgvfs.Options{SidecarHook: func(op, path string) error {
		if op == "open" {
			return &os.PathError{Op: "open", Path: path, Err: os.ErrPermission}
		}
		return nil
	}})
	path := tempDB(t)
	_, err := sqlite3.Open(dsn(path, name))
	var refusal *wgvfs.RefusalError
	if !errors.As(err, &refusal) || refusal.Reason != policy.ReasonSidecarUnavailable {
		t.Fatalf("open = %v, want a sidecar-unavailable refusal", err)
	}
	if !errors.Is(err, sqlite3.CANTOPEN) || errclass.Classify(err) == policy.ClassTransient {
		t.Fatalf("open = %v: want CANTOPEN, not retryable", err)
	}
}

func TestCorruptSidecarRebuilt(t *testing.T) {
	name, g := registerTestVFS(t, wgvfs.Options{})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES(1)")
	c.Close()
	if err := os.WriteFile(sidecar.SidecarPath(path), []byte("garbage, not a record at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	c = openConn(t, dsn(path, name))
	if got := mustQuery(t, c, "SELECT x FROM t"); got != "1" {
		t.Fatalf("read after rebuild = %s", got)
	}
	st, err := g.Status(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sidecar.Record == nil || st.Sidecar.Record.Reason != policy.ReasonRebuilt || st.Sidecar.Record.Family != policy.FamilyWAL || g.Stats().RecordsRebuilt != 1 {
		t.Fatalf("record %+v rebuilt %d; want rebuilt from the WAL header once", st.Sidecar.Record, g.Stats().RecordsRebuilt)
	}
}

func TestCorruptSidecarRefusedByPolicy(t *testing.T) {
	p := policy.Default()
	p.CorruptRecord = policy.RecordRefuse
	name, g := registerTestVFS(t, wgvfs.Options{Policy: &p})
	path := tempDB(t)
	c := openConn(t, dsn(path, name))
	mustExec(t, c, "CREATE TABLE t(x)")
	c.Close()
	rec := sidecar.EncodeRecord(sidecar.Record{Generation: 1, Family: policy.FamilyRollback})
	rec[30] ^= 0xff // torn: the checksum no longer matches
	if err := os.WriteFile(sidecar.SidecarPath(path), rec[:], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite3.Open(dsn(path, name))
	var refusal *wgvfs.RefusalError
	if !errors.Is(err, sqlite3.CANTOPEN) || !errors.As(err, &refusal) || !strings.Contains(err.Error(), "walguard check") {
		t.Fatalf("got %v, want a refusal at open that says what to do", err)
	}
	if r := g.LastRefusal(path); r == nil || r.Reason != policy.ReasonSidecarCorrupt || !errors.Is(r, sidecar.ErrChecksum) {
		t.Fatalf("last refusal %v, want sidecar corrupt wrapping ErrChecksum", r)
	}
}

// A record written by a newer walguard is never overwritten or trusted.
func TestFutureVersionRecordRefused(t *testing.T) {
	path := tempDB(t)
	createTable(t, path, "wal")
	rec := sidecar.EncodeRecord(sidecar.Record{Generation: 9, Family: policy.FamilyWAL, Mode: policy.ModeWAL})
	binary.BigEndian.PutUint16(rec[8:], sidecar.RecordVersion+1)
	binary.BigEndian.PutUint32(rec[252:], crc32.Checksum(rec[:252], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(sidecar.SidecarPath(path), rec[:], 0o644); err != nil {
		t.Fatal(err)
	}
	name, _ := registerTestVFS(t, wgvfs.Options{})
	_, err := sqlite3.Open(dsn(path, name))
	if !errors.Is(err, sidecar.ErrVersion) || !strings.Contains(err.Error(), "newer walguard") {
		t.Fatalf("open over a future record: %v, want a refusal wrapping ErrVersion", err)
	}
	if got, _ := os.ReadFile(sidecar.SidecarPath(path)); !bytes.Equal(got, rec[:]) {
		t.Fatal("the newer record was overwritten")
	}
}
