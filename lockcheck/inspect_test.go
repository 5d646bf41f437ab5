package lockcheck

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// writeRecord stores a record agreeing on family f as the sidecar of db.
func writeRecord(t *testing.T, db string, f policy.Family) {
	t.Helper()
	mode := policy.ModeDelete
	if f == policy.FamilyWAL {
		mode = policy.ModeWAL
	}
	rec := sidecar.EncodeRecord(sidecar.Record{
		Generation: 3, Family: f, Mode: mode, Protocol: policy.ProtocolOFD,
		SetterPID: 4242, SetAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Host: "test-host", Program: "walguard-test", Detail: "written by a test",
	})
	writeFile(t, sidecar.SidecarPath(db), rec[:])
}

// joinSidecar makes this test a live participant of db's sidecar, as a
// walguard connection would be, and returns its open sidecar.
func joinSidecar(t *testing.T, db string, s sidecar.Slot) *sidecar.Sidecar {
	t.Helper()
	sc, err := sidecar.OpenSidecar(db, sidecar.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	if _, err := sc.AcquireSlot(); err != nil {
		t.Fatal(err)
	}
	if err := sc.WriteSlot(s); err != nil {
		t.Fatal(err)
	}
	if err := sc.HoldProtocol(s.Protocol); err != nil {
		t.Fatal(err)
	}
	if err := sc.HoldFamily(s.Family); err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestInspectRollbackDatabase(t *testing.T) {
	db := newDB(t, "PRAGMA user_version=5", "CREATE TABLE t(x)", "INSERT INTO t VALUES(1)")
	before := dirNames(t, filepath.Dir(db))
	r := inspect(t, db)
	wantHazards(t, r)
	if r.Header.Family != policy.FamilyRollback || r.Header.UserVersion != 5 || r.Size != int64(r.Header.PageSize)*2 {
		t.Fatalf("header %+v, size %d", r.Header, r.Size)
	}
	if r.WAL.Exists || r.SHM.Exists || r.Journal.Exists || r.Sidecar.Exists {
		t.Fatalf("related files reported present: wal %t shm %t journal %t sidecar %t",
			r.WAL.Exists, r.SHM.Exists, r.Journal.Exists, r.Sidecar.Exists)
	}
	if r.WAL.Checkpoint != CheckpointNoWAL || r.Journal.Hot != HotNo {
		t.Fatalf("checkpoint %q hot %q", r.WAL.Checkpoint, r.Journal.Hot)
	}
	// Inspect created nothing: no -wal, -shm, -journal or sidecar.
	if after := dirNames(t, filepath.Dir(db)); !slices.Equal(before, after) {
		t.Fatalf("Inspect changed the directory: %q, then %q", before, after)
	}
}

// TestInspectLiveWAL: a WAL database with a connection open is
// consistent, and its frames await a checkpoint.
func TestInspectLiveWAL(t *testing.T) {
	db := liveWAL(t, 2)
	r := inspect(t, db)
	wantHazards(t, r)
	if r.Header.Family != policy.FamilyWAL {
		t.Fatalf("header family %s, want wal", r.Header.Family)
	}
	if !r.WAL.Exists || !r.SHM.Exists || r.WAL.Checkpoint != CheckpointPending ||
		r.WAL.PendingFrames != r.WAL.CommittedFrames || r.WAL.CommittedFrames == 0 {
		t.Fatalf("wal %+v", r.WAL)
	}
}

// TestInspectCheckpointed: after a checkpoint the -shm says no frame waits.
func TestInspectCheckpointed(t *testing.T) {
	db := dbPath(t)
	openDB(t, db, "PRAGMA journal_mode=WAL", "CREATE TABLE t(x)", "INSERT INTO t VALUES(1)", "PRAGMA wal_checkpoint(PASSIVE)")
	r := inspect(t, db)
	if r.WAL.Checkpoint != CheckpointDone || r.WAL.PendingFrames != 0 || r.SHM.Header.Backfill != r.SHM.Header.MaxFrame {
		t.Fatalf("wal %+v shm %+v", r.WAL, r.SHM.Header)
	}
}

// TestInspectWALWithoutSHM: frames but no -shm to compare with.
func TestInspectWALWithoutSHM(t *testing.T) {
	live := liveWAL(t, 1)
	db := dbPath(t)
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(live + suffix)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, db+suffix, b)
	}
	r := inspect(t, db)
	if r.SHM.Exists || r.WAL.Checkpoint != CheckpointFramesPresent || r.WAL.PendingFrames == 0 {
		t.Fatalf("wal %+v", r.WAL)
	}
}

func TestInspectFamilyMismatch(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sql    []string
		record policy.Family
	}{
		{"rollback header, wal agreed", []string{"CREATE TABLE t(x)"}, policy.FamilyWAL},
		{"wal header, rollback agreed", []string{"PRAGMA journal_mode=WAL", "CREATE TABLE t(x)"}, policy.FamilyRollback},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t, tc.sql...)
			writeRecord(t, db, tc.record)
			r := inspect(t, db)
			wantHazards(t, r, HazardFamilyMismatch)
			if r.Sidecar.Record == nil || r.Sidecar.Record.Family != tc.record {
				t.Fatalf("record %+v", r.Sidecar.Record)
			}
			if msg := r.Hazards[0].Message; !strings.Contains(msg, "header and agreed mode disagree") {
				t.Fatalf("message %q", msg)
			}
		})
	}
}

func TestInspectAgreeingRecord(t *testing.T) {
	db := newDB(t, "PRAGMA journal_mode=WAL", "CREATE TABLE t(x)")
	writeRecord(t, db, policy.FamilyWAL)
	wantHazards(t, inspect(t, db))
}

func TestInspectGarbageSidecar(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{'w', 'g'}))
	garbage := make([]byte, sidecar.DataSize)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	newer := sidecar.EncodeRecord(sidecar.Record{Family: policy.FamilyWAL, Mode: policy.ModeWAL})
	newer[8+1] = sidecar.RecordVersion + 1 // the version field is bytes 8..9 (sidecar/record.go)
	binary.BigEndian.PutUint32(newer[252:], crc32.Checksum(newer[:252], crc32.MakeTable(crc32.Castagnoli)))
	tornVersion := newer
	tornVersion[9] = sidecar.RecordVersion + 2 // a version torn after the checksum was written
	torn := sidecar.EncodeRecord(sidecar.Record{Family: policy.FamilyRollback})
	for _, tc := range []struct {
		name    string
		data    []byte
		want    []string
		wantErr error
	}{
		{"random bytes", garbage, []string{HazardBadSidecar}, sidecar.ErrNotSidecar},
		{"newer version", newer[:], []string{HazardBadSidecar}, sidecar.ErrVersion},
		{"torn version: not newer", tornVersion[:], []string{HazardBadSidecar}, sidecar.ErrChecksum},
		{"torn record", torn[:100], []string{HazardBadSidecar}, sidecar.ErrTruncated},
		{"all zero: fresh, not garbage", make([]byte, sidecar.DataSize), nil, sidecar.ErrNoRecord},
		{"empty: fresh, not garbage", nil, nil, sidecar.ErrNoRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t, "CREATE TABLE t(x)")
			writeFile(t, sidecar.SidecarPath(db), tc.data)
			r := inspect(t, db)
			wantHazards(t, r, tc.want...)
			if !errors.Is(r.Sidecar.RecordErr, tc.wantErr) || r.Sidecar.Record != nil {
				t.Fatalf("record error %v, want %v", r.Sidecar.RecordErr, tc.wantErr)
			}
		})
	}
}

func TestInspectSidecarSymlink(t *testing.T) {
	db := newDB(t, "CREATE TABLE t(x)")
	if err := os.Symlink(filepath.Join(filepath.Dir(db), "elsewhere"), sidecar.SidecarPath(db)); err != nil {
		t.Fatal(err)
	}
	r := inspect(t, db)
	wantHazards(t, r, HazardBadSidecar)
	if !strings.Contains(r.Sidecar.Error, sidecar.ErrSymlink.Error()) {
		t.Fatalf("sidecar error %q", r.Sidecar.Error)
	}
}

func TestInspectWALOnOtherHost(t *testing.T) {
	db := newDB(t, "PRAGMA journal_mode=WAL", "CREATE TABLE t(x)")
	here := inspect(t, db).Host
	local := sidecar.Slot{PID: uint32(os.Getpid()), Protocol: policy.ProtocolOFD, Family: policy.FamilyWAL, Mode: policy.ModeWAL, Host: here, Program: "local"}
	joinSidecar(t, db, local)
	wantHazards(t, inspect(t, db)) // a WAL participant on this host is fine

	remote := local
	remote.Host, remote.Program, remote.PID = "other-host/0badc0de", "remote", 4242
	joinSidecar(t, db, remote)
	r := inspect(t, db)
	wantHazards(t, r, HazardWALOtherHost)
	if len(r.Sidecar.Participants) != 2 || !strings.Contains(r.Hazards[0].Message, "other-host/0badc0de") {
		t.Fatalf("participants %+v, hazard %+v", r.Sidecar.Participants, r.Hazards[0])
	}

	// A rollback participant on another host is the documented answer.
	db2 := newDB(t, "CREATE TABLE t(x)")
	remote.Family, remote.Mode = policy.FamilyRollback, policy.ModeDelete
	joinSidecar(t, db2, remote)
	wantHazards(t, inspect(t, db2))
}

func TestInspectParticipantsDisagree(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b sidecar.Slot
		want string
	}{
		{"protocols",
			sidecar.Slot{Protocol: policy.ProtocolOFD, Family: policy.FamilyRollback},
			sidecar.Slot{Protocol: policy.ProtocolFlock, Family: policy.FamilyRollback},
			"ofd and flock"},
		{"families",
			sidecar.Slot{Protocol: policy.ProtocolOFD, Family: policy.FamilyRollback},
			sidecar.Slot{Protocol: policy.ProtocolOFD, Family: policy.FamilyWAL},
			"rollback and wal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t, "CREATE TABLE t(x)")
			r := inspect(t, db)
			for _, s := range []sidecar.Slot{tc.a, tc.b} {
				s.PID, s.Host, s.Program = uint32(os.Getpid()), r.Host, "test"
				joinSidecar(t, db, s)
			}
			r = inspect(t, db)
			wantHazards(t, r, HazardParticipantsDisagree)
			if !strings.Contains(r.Hazards[0].Message, tc.want) {
				t.Fatalf("message %q does not name %q", r.Hazards[0].Message, tc.want)
			}
		})
	}
}

func TestInspectCannotRead(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.db")
	writeFile(t, short, []byte(sqliteMagic))
	text := filepath.Join(dir, "text.db")
	writeFile(t, text, []byte(strings.Repeat("not a database\n", 20)))
	empty := filepath.Join(dir, "empty.db")
	writeFile(t, empty, nil)
	for _, tc := range []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "missing.db"), fs.ErrNotExist},
		{"empty", empty, ErrNotDatabase},
		{"short", short, ErrNotDatabase},
		{"text", text, ErrNotDatabase},
		{"directory", dir, errNotRegular},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Inspect(tc.path)
			if !errors.Is(err, tc.want) || r != nil {
				t.Fatalf("Inspect: %v, %v; want %v", r, err, tc.want)
			}
			if !strings.Contains(err.Error(), "cannot read") {
				t.Fatalf("error %q does not say it cannot read", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Inspect created the missing database: %v", err)
	}
}

func TestReportJSON(t *testing.T) {
	db := liveWAL(t, 1)
	writeRecord(t, db, policy.FamilyRollback)
	b, err := json.Marshal(inspect(t, db))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Header struct {
			Family        string `json:"family"`
			SQLiteVersion string `json:"sqlite_version"`
		} `json:"header"`
		WAL struct {
			Checkpoint string `json:"checkpoint"`
		} `json:"wal"`
		SHM struct {
			Header struct {
				MaxFrame uint32 `json:"mx_frame"`
			} `json:"header"`
		} `json:"shm"`
		Sidecar struct {
			Record struct {
				Family string `json:"family"`
			} `json:"record"`
			Protocols []string `json:"protocols"`
		} `json:"sidecar"`
		Hazards []Hazard `json:"hazards"`
		Verdict string   `json:"verdict"`
		Locks   []Lock   `json:"locks"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Header.Family != "wal" || !strings.HasPrefix(got.Header.SQLiteVersion, "3.") ||
		got.WAL.Checkpoint != CheckpointPending || got.SHM.Header.MaxFrame == 0 ||
		got.Sidecar.Record.Family != "rollback" || got.Sidecar.Protocols == nil ||
		got.Verdict != VerdictHazard || len(got.Hazards) != 1 || got.Hazards[0].Code != HazardFamilyMismatch ||
		got.Hazards[0].Advice == "" || got.Locks == nil {
		t.Fatalf("JSON report:\n%s", b)
	}
}

func TestWriteText(t *testing.T) {
	db := liveWAL(t, 1)
	writeRecord(t, db, policy.FamilyRollback)
	text := reportText(t, inspect(t, db))
	for _, want := range []string{
		"database " + db, "journal family       wal (bytes 18/19 = 2/2)",
		"wal " + db + "-wal", "frames await a checkpoint", "shm " + db + "-shm", "mxFrame",
		"journal " + db + "-journal: absent", "sidecar " + db + "-walguard",
		"verdict: hazard (1 found)", "[" + HazardFamilyMismatch + "]", "what to do:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
}
