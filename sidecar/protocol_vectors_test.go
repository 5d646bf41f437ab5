package sidecar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walguard/walguard/internal/vectors"
	"github.com/walguard/walguard/policy"
)

// The shared vectors of testdata/protocol (documented in its README.md):
// record and slot entries as bytes, with what a reader must make of them,
// and whole sidecar files. The C extension reads the same files. The
// tables below generate them from this package's encoder:
//
//	go test ./sidecar -run ProtocolVectors -update
//
// Without -update the test regenerates them in memory and fails on any
// difference, so a change of the encoder cannot pass unnoticed; it then
// decodes every file as an independent reader would, from the tables'
// text alone.

var protocolDir = filepath.Join("..", "testdata", "protocol")

// A vector is one file of entry bytes and what decoding it must give.
type vector struct {
	name  string
	bytes []byte
}

var vectorTime = time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)

// recordVectors are the record files, in table order.
func recordVectors() []vector {
	enc := func(r Record) []byte { b := EncodeRecord(r); return b[:] }
	base := Record{Generation: 3, Family: policy.FamilyWAL, Mode: policy.ModeWAL, Protocol: policy.ProtocolOFD,
		Reason: policy.ReasonPragma, SetterPID: 4242, SetAt: vectorTime, Host: "host-a", Program: "app"}
	with := func(f func(*Record)) []byte { r := base; f(&r); return enc(r) }
	mutate := func(b []byte, f func([]byte)) []byte { b = slices.Clone(b); f(b); return b }
	resum := func(b []byte, f func([]byte)) []byte { return withCRC(mutate(b, f)) }
	wal := enc(base)
	v2 := with(func(r *Record) {
		r.Family, r.Mode, r.Reason = policy.FamilyRollback, policy.ModeDelete, policy.ReasonOperator
		r.Detail = "deliberate journal_mode=delete"
	})
	intent := with(func(r *Record) {
		r.Generation = 7
		r.Switch = SwitchIntent{Pending: true, From: policy.FamilyRollback, Slot: 3}
		r.Detail = "switch from rollback to wal"
	})
	return []vector{
		{"empty", nil},
		{"zero", make([]byte, RecordSize)},
		{"zero-short", make([]byte, 100)},
		{"first-use-new-database", with(func(r *Record) {
			r.Generation, r.Family, r.Mode, r.Reason = 1, policy.FamilyUnknown, policy.ModeUnknown, policy.ReasonFirstUse
		})},
		{"first-use-wal", with(func(r *Record) { r.Generation, r.Reason = 1, policy.ReasonFirstUse })},
		{"wal-agreed", wal},
		{"rollback-agreed", with(func(r *Record) {
			r.Family, r.Mode, r.Protocol, r.Program = policy.FamilyRollback, policy.ModeTruncate, policy.ProtocolPOSIX, "python3"
		})},
		{"settled-rollback-incompatible", with(func(r *Record) {
			r.Family, r.Mode, r.Reason = policy.FamilyRollback, policy.ModeDelete, policy.ReasonIncompatible
			r.Detail = "lock: no locks available; again on 3 fresh descriptors over 70ms"
		})},
		{"settled-rollback-networkfs", with(func(r *Record) {
			r.Family, r.Mode, r.Reason = policy.FamilyRollback, policy.ModeDelete, policy.ReasonNetworkFS
			r.Detail = "filesystem nfs4 cannot share memory between processes"
		})},
		{"foreign-flip", with(func(r *Record) {
			r.Reason, r.Detail = policy.ReasonForeignFlip, "header changed from rollback to wal without walguard"
		})},
		{"rebuilt", with(func(r *Record) {
			r.Reason, r.Detail = policy.ReasonRebuilt, "rebuilt: record: checksum mismatch, torn or garbage data"
		})},
		{"sidecar-replaced", with(func(r *Record) {
			r.Generation, r.Reason, r.Detail = 1, policy.ReasonSidecarReplaced, "fresh record while participants of the previous sidecar were live"
		})},
		{"v2-operator", v2},
		{"v2-recovered", with(func(r *Record) {
			r.Family, r.Mode, r.Reason = policy.FamilyRollback, policy.ModeDelete, policy.ReasonRecovered
			r.Detail = "switch to wal by app pid 4242 interrupted; never reached the header"
		})},
		{"v2-switch-intent-to-wal", intent},
		{"v2-switch-intent-to-rollback", with(func(r *Record) {
			r.Family, r.Mode, r.Reason, r.Program = policy.FamilyRollback, policy.ModeDelete, policy.ReasonOperator, "walguard"
			r.Switch = SwitchIntent{Pending: true, From: policy.FamilyWAL, Slot: 0}
			r.Detail = "switch from wal to rollback"
		})},
		{"v2-without-v2-fields", with(func(r *Record) { r.Version = 2 })},
		{"text-limits", with(func(r *Record) {
			r.SetterPID, r.Generation = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
			r.Host = strings.Repeat("h", 47)
			r.Program = "prog-日本語-é"
			r.Detail = strings.Repeat("d", 108) + "日" // 111 bytes: the longest detail
		})},
		{"text-cut-at-rune", with(func(r *Record) {
			r.Host = strings.Repeat("x", 46) + "é" // 48 bytes in, cut to 46
			r.Program = ""
			r.Detail = "cut\x00after the NUL"
		})},
		{"zero-time", with(func(r *Record) { r.SetAt, r.Host, r.Program = time.Time{}, "", "" })},
		{"trailing-bytes", append(slices.Clone(wal), 0xAA, 0xBB, 0xCC)},

		{"torn-checksum", mutate(wal, func(b []byte) { b[recDetail] ^= 0x20 })},
		{"torn-half", mutate(wal, func(b []byte) { clear(b[128:]) })},
		{"bad-magic", mutate(wal, func(b []byte) { copy(b, "SQLITE3\x00") })},
		{"bad-magic-zero-crc", mutate(wal, func(b []byte) { b[0] = 'w' })},
		{"truncated", wal[:100]},
		{"truncated-to-crc", wal[:recChecksum]},
		{"newer-version", resum(wal, func(b []byte) { b[recVersion+1] = 3 })},
		{"newer-version-torn", mutate(wal, func(b []byte) { b[recVersion+1] = 3 })},
		{"version-zero", resum(wal, func(b []byte) { b[recVersion+1] = 0 })},
		{"other-length", resum(wal, func(b []byte) { binary.BigEndian.PutUint16(b[recLength:], 512) })},
		{"other-slot-count", resum(wal, func(b []byte) { binary.BigEndian.PutUint16(b[recSlots:], 64) })},
		{"v1-with-switch-flag", resum(wal, func(b []byte) { b[recFlags+1] = 1 })},
		{"v2-reserved-flag", resum(intent, func(b []byte) { b[recFlags+1] |= 2 })},
		{"reserved-bytes", resum(wal, func(b []byte) { b[recReserved] = 1 })},
		{"switch-bytes-without-flag", resum(v2, func(b []byte) { b[recSwitchFrom] = 2 })},
		{"switch-from-same-family", resum(intent, func(b []byte) { b[recSwitchFrom] = byte(policy.FamilyWAL) })},
		{"switch-from-unknown", resum(intent, func(b []byte) { b[recSwitchFrom] = 0 })},
		{"switch-slot-out-of-range", resum(intent, func(b []byte) { b[recSwitchSlot] = MaxSlots })},
		{"unknown-family", resum(wal, func(b []byte) { b[recFamily] = 3 })},
		{"unknown-mode", resum(wal, func(b []byte) { b[recMode] = 7 })},
		{"unknown-protocol", resum(wal, func(b []byte) { b[recProtocol] = policy.NumProtocols })},
		{"unknown-reason", resum(wal, func(b []byte) { b[recReason] = 9 })},
		{"mode-of-other-family", resum(wal, func(b []byte) { b[recMode] = byte(policy.ModeDelete) })},
		{"v1-with-v2-reason", resum(wal, func(b []byte) { b[recReason] = byte(policy.ReasonOperator) })},
		{"text-without-nul", resum(wal, func(b []byte) { copy(b[recHost:recProgram], strings.Repeat("h", hostFieldSize)) })},
		{"text-after-nul", resum(wal, func(b []byte) { b[recHost+hostFieldSize-1] = 'z' })},
		{"text-not-utf8", resum(wal, func(b []byte) { b[recProgram] = 0xFF })},
	}
}

// slotVectors are the slot entry files, in table order.
func slotVectors() []vector {
	enc := func(s Slot) []byte { b := EncodeSlot(s); return b[:] }
	base := Slot{PID: 4242, Protocol: policy.ProtocolOFD, Family: policy.FamilyWAL, Mode: policy.ModeWAL,
		Since: vectorTime, Host: "host-a", Program: "app"}
	with := func(f func(*Slot)) []byte { s := base; f(&s); return enc(s) }
	mutate := func(b []byte, f func([]byte)) []byte { b = slices.Clone(b); f(b); return b }
	resum := func(b []byte, f func([]byte)) []byte { return withCRC(mutate(b, f)) }
	wal := enc(base)
	return []vector{
		{"never-written", make([]byte, SlotSize)},
		{"joined-undecided", with(func(s *Slot) { s.Family, s.Mode = policy.FamilyUnknown, policy.ModeUnknown })},
		{"mode-asked-before-family", with(func(s *Slot) { s.Family = policy.FamilyUnknown })},
		{"wal-writer", wal},
		{"rollback-writer-posix", with(func(s *Slot) {
			s.Protocol, s.Family, s.Mode, s.Program = policy.ProtocolPOSIX, policy.FamilyRollback, policy.ModeDelete, "python3"
		})},
		{"rollback-writer-flock", with(func(s *Slot) {
			s.Protocol, s.Family, s.Mode = policy.ProtocolFlock, policy.FamilyRollback, policy.ModePersist
		})},
		{"read-only", with(func(s *Slot) { s.ReadOnly = true })},
		{"nolock", with(func(s *Slot) {
			s.Protocol, s.Family, s.Mode = policy.ProtocolNoLock, policy.FamilyUnknown, policy.ModeUnknown
		})},
		{"windows", with(func(s *Slot) { s.Protocol, s.Host, s.Program = policy.ProtocolWindows, "WIN-HOST", `C:\app.exe` })},
		{"zero-time-no-text", with(func(s *Slot) { s.Since, s.Host, s.Program, s.PID = time.Time{}, "", "", 0 })},

		{"torn-checksum", mutate(wal, func(b []byte) { b[slotOffPID+3] ^= 1 })},
		{"bad-magic", mutate(wal, func(b []byte) { copy(b, "WALG") })},
		{"truncated", wal[:64]},
		{"newer-version", resum(wal, func(b []byte) { b[slotOffVersion+1] = 2 })},
		{"reserved-flag", resum(wal, func(b []byte) { b[slotOffFlags] |= 2 })},
		{"reserved-bytes", resum(wal, func(b []byte) { b[slotOffPadding] = 1 })},
		{"unknown-protocol", resum(wal, func(b []byte) { b[slotOffProtocol] = policy.NumProtocols })},
		{"unknown-family", resum(wal, func(b []byte) { b[slotOffFamily] = 3 })},
	}
}

// sidecarFiles are whole sidecar files: a name, the record vector at
// offset 0 (empty: zeros) and slot vectors by index.
var sidecarFiles = []struct {
	name   string
	record string
	slots  map[int]string
}{
	{"fresh", "", nil},
	{"wal-two-participants", "wal-agreed", map[int]string{0: "wal-writer", 1: "joined-undecided"}},
	{"interrupted-switch", "v2-switch-intent-to-wal", map[int]string{3: "rollback-writer-posix", 5: "read-only"}},
}

// expectOf names a decoding error as the tables do.
func expectOf(err error) string {
	for _, e := range []struct {
		err  error
		name string
	}{{ErrNoRecord, "no-record"}, {ErrTruncated, "truncated"}, {ErrNotSidecar, "not-sidecar"},
		{ErrChecksum, "checksum"}, {ErrVersion, "version"}, {ErrInvalid, "invalid"}} {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

var recordColumns = []string{"file", "expect", "version", "generation", "family", "mode", "protocol", "reason",
	"setter_pid", "set_at_ns", "host", "program", "detail", "switch_pending", "switch_from", "switch_slot", "json"}

var slotColumns = []string{"file", "expect", "version", "pid", "protocol", "family", "mode", "read_only",
	"since_ns", "host", "program", "json"}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func timeNS(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func recordRow(file string, b []byte) []string {
	r, err := DecodeRecord(b)
	if err != nil {
		row := make([]string, len(recordColumns))
		row[0], row[1] = file, expectOf(err)
		return row
	}
	j, _ := json.Marshal(r)
	sw := []string{"no", "", ""}
	if r.Switch.Pending {
		sw = []string{"yes", r.Switch.From.String(), strconv.Itoa(r.Switch.Slot)}
	}
	return append([]string{file, "ok", strconv.Itoa(int(r.Version)), strconv.FormatUint(r.Generation, 10),
		r.Family.String(), r.Mode.String(), r.Protocol.String(), r.Reason.String(),
		strconv.FormatUint(uint64(r.SetterPID), 10), timeNS(r.SetAt), r.Host, r.Program, r.Detail}, append(sw, string(j))...)
}

func slotRow(file string, b []byte) []string {
	s, err := DecodeSlot(b)
	if err != nil {
		row := make([]string, len(slotColumns))
		row[0], row[1] = file, expectOf(err)
		return row
	}
	j, _ := json.Marshal(s)
	return []string{file, "ok", strconv.Itoa(SlotVersion), strconv.FormatUint(uint64(s.PID), 10),
		s.Protocol.String(), s.Family.String(), s.Mode.String(), yesNo(s.ReadOnly), timeNS(s.Since), s.Host, s.Program, string(j)}
}

const recordsComment = `Record vectors: testdata/protocol/record/<file>.bin and what a reader must make of it.
Generated by: go test ./sidecar -run ProtocolVectors -update (see README.md for the columns).`

const slotsComment = `Slot entry vectors: testdata/protocol/slot/<file>.bin and what a reader must make of it.
Generated by: go test ./sidecar -run ProtocolVectors -update (see README.md for the columns).`

const filesComment = `Whole sidecar files: testdata/protocol/file/<file>.bin, DataSize bytes: the record vector at 0
(empty: zeros) and slot vectors at 512 + 128*index. Generated like records.tsv.`

// generated returns every file of the vectors, by path relative to
// testdata/protocol.
func generated(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	var rows [][]string
	recs := map[string][]byte{}
	for _, v := range recordVectors() {
		out["record/"+v.name+".bin"] = v.bytes
		recs[v.name] = v.bytes
		rows = append(rows, recordRow(v.name, v.bytes))
	}
	out["records.tsv"] = vectors.Format(recordsComment, recordColumns, rows)
	rows = nil
	slots := map[string][]byte{}
	for _, v := range slotVectors() {
		out["slot/"+v.name+".bin"] = v.bytes
		slots[v.name] = v.bytes
		rows = append(rows, slotRow(v.name, v.bytes))
	}
	out["slots.tsv"] = vectors.Format(slotsComment, slotColumns, rows)
	rows = nil
	for _, f := range sidecarFiles {
		b := make([]byte, DataSize)
		copy(b, recs[f.record])
		var list []string
		for _, i := range slices.Sorted(maps.Keys(f.slots)) {
			copy(b[SlotOffset(i):], slots[f.slots[i]])
			list = append(list, fmt.Sprintf("%d=%s", i, f.slots[i]))
		}
		out["file/"+f.name+".bin"] = b
		rows = append(rows, []string{f.name, strconv.Itoa(DataSize), f.record, strings.Join(list, ",")})
	}
	out["files.tsv"] = vectors.Format(filesComment, []string{"file", "size", "record", "slots"}, rows)
	rows = nil
	for _, db := range nameVectors() {
		rows = append(rows, []string{db, SidecarPath(db)})
	}
	out["names.tsv"] = vectors.Format(namesComment, []string{"database", "sidecar"}, rows)
	return out
}

// nameVectors are database paths whose sidecar names the vectors give:
// the plain rule, and the shortened name past 255 bytes.
func nameVectors() []string {
	return []string{
		"app.db",
		"/srv/data/app.db",
		"/srv/data/app",
		"relative/dir/app.db",
		"/srv/data/" + strings.Repeat("n", 246),       // 255 bytes with the suffix: kept
		"/srv/data/" + strings.Repeat("n", 247),       // 256: shortened
		"/srv/data/" + strings.Repeat("n", 247) + "x", // shares the prefix, not the hash
		"/srv/" + strings.Repeat("é", 150),            // 300 bytes, the cut at 200 is a rune boundary
		"/srv/" + strings.Repeat("a", 199) + strings.Repeat("é", 40), // the cut at 200 falls inside é: 199 kept
		"/srv/" + strings.Repeat("日", 90),                            // 270 bytes: 200 is inside 日 (3 bytes): 198 kept
		strings.Repeat("z", 300),                                     // no directory
	}
}

const namesComment = `Sidecar names: the sidecar of the database at the path in column database (docs/protocol.md,
"The sidecar file"). Generated like records.tsv.`

// TestProtocolVectorsGenerated holds the files in testdata/protocol to
// what this package's encoder and decoder make of the tables above.
func TestProtocolVectorsGenerated(t *testing.T) {
	want := generated(t)
	if *updateGolden {
		for _, sub := range []string{"record", "slot", "file"} {
			dir := filepath.Join(protocolDir, sub)
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(protocolDir, filepath.FromSlash(name)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(protocolDir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%v (regenerate with -update)", err)
			continue
		}
		if !bytes.Equal(got, b) {
			t.Errorf("testdata/protocol/%s differs from what the encoder writes now: a format change must be deliberate (regenerate with -update and update docs/protocol.md)", name)
		}
	}
	for _, sub := range []string{"record", "slot", "file"} {
		entries, err := os.ReadDir(filepath.Join(protocolDir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, ok := want[sub+"/"+e.Name()]; !ok {
				t.Errorf("testdata/protocol/%s/%s is in no table", sub, e.Name())
			}
		}
	}
}

// TestProtocolVectorsNames checks names.tsv against SidecarPath.
func TestProtocolVectorsNames(t *testing.T) {
	_, rows, err := vectors.Read(filepath.Join(protocolDir, "names.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("names.tsv has no rows")
	}
	for _, row := range rows {
		db, want := row.Get("database"), row.Get("sidecar")
		if got := SidecarPath(db); got != want {
			t.Errorf("line %d: SidecarPath(%q) = %q, table says %q", row.Line, db, got, want)
		}
		if base := filepath.Base(want); len(base) > MaxNameBytes {
			t.Errorf("line %d: sidecar name of %d bytes", row.Line, len(base))
		}
	}
}

// readVector reads a vector file named by a table row.
func readVector(t *testing.T, sub, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(protocolDir, sub, name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustUint(t *testing.T, line int, s string, bits int) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		t.Fatalf("line %d: %v", line, err)
	}
	return v
}

func mustEnum[T interface {
	~uint8
	String() string
}](t *testing.T, line int, s string) T {
	t.Helper()
	for v := range 256 {
		if T(v).String() == s {
			return T(v)
		}
	}
	t.Fatalf("line %d: unknown name %q", line, s)
	return 0
}

func nsTime(t *testing.T, line int, s string) time.Time {
	t.Helper()
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("line %d: %v", line, err)
	}
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// TestProtocolVectorsRecords reads records.tsv as another implementation
// would: every file decodes to its row, and a row that decodes encodes
// back to the file's first 256 bytes.
func TestProtocolVectorsRecords(t *testing.T) {
	_, rows, err := vectors.Read(filepath.Join(protocolDir, "records.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("records.tsv has no rows")
	}
	for _, row := range rows {
		file := row.Get("file")
		t.Run(file, func(t *testing.T) {
			b := readVector(t, "record", file)
			got, err := DecodeRecord(b)
			if e := expectOf(err); e != row.Get("expect") {
				t.Fatalf("DecodeRecord: %s (%v), table says %s", e, err, row.Get("expect"))
			}
			if err != nil {
				return
			}
			line := row.Line
			want := Record{
				Version:    uint16(mustUint(t, line, row.Get("version"), 16)),
				Generation: mustUint(t, line, row.Get("generation"), 64),
				Family:     mustEnum[policy.Family](t, line, row.Get("family")),
				Mode:       mustEnum[policy.JournalMode](t, line, row.Get("mode")),
				Protocol:   mustEnum[policy.Protocol](t, line, row.Get("protocol")),
				Reason:     mustEnum[policy.Reason](t, line, row.Get("reason")),
				SetterPID:  uint32(mustUint(t, line, row.Get("setter_pid"), 32)),
				SetAt:      nsTime(t, line, row.Get("set_at_ns")),
				Host:       row.Get("host"),
				Program:    row.Get("program"),
				Detail:     row.Get("detail"),
			}
			if pending, _ := row.Bool("switch_pending"); pending {
				want.Switch = SwitchIntent{Pending: true, From: mustEnum[policy.Family](t, line, row.Get("switch_from")),
					Slot: int(mustUint(t, line, row.Get("switch_slot"), 8))}
			}
			if !sameRecord(got, want) {
				t.Fatalf("decoded %+v, table says %+v", got, want)
			}
			enc := EncodeRecord(want)
			if !bytes.Equal(enc[:], b[:RecordSize]) {
				t.Fatalf("the table's record encodes to\n%x\nthe file holds\n%x", enc, b[:RecordSize])
			}
			if j, _ := json.Marshal(got); string(j) != row.Get("json") {
				t.Fatalf("JSON %s, table says %s", j, row.Get("json"))
			}
		})
	}
}

// TestProtocolVectorsSlots is TestProtocolVectorsRecords for slots.tsv.
func TestProtocolVectorsSlots(t *testing.T) {
	_, rows, err := vectors.Read(filepath.Join(protocolDir, "slots.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("slots.tsv has no rows")
	}
	for _, row := range rows {
		file := row.Get("file")
		t.Run(file, func(t *testing.T) {
			b := readVector(t, "slot", file)
			got, err := DecodeSlot(b)
			if e := expectOf(err); e != row.Get("expect") {
				t.Fatalf("DecodeSlot: %s (%v), table says %s", e, err, row.Get("expect"))
			}
			if err != nil {
				return
			}
			line := row.Line
			ro, err := row.Bool("read_only")
			if err != nil {
				t.Fatal(err)
			}
			if v := mustUint(t, line, row.Get("version"), 16); v != SlotVersion {
				t.Fatalf("version %d, want %d", v, SlotVersion)
			}
			want := Slot{
				PID:      uint32(mustUint(t, line, row.Get("pid"), 32)),
				Protocol: mustEnum[policy.Protocol](t, line, row.Get("protocol")),
				Family:   mustEnum[policy.Family](t, line, row.Get("family")),
				Mode:     mustEnum[policy.JournalMode](t, line, row.Get("mode")),
				ReadOnly: ro,
				Since:    nsTime(t, line, row.Get("since_ns")),
				Host:     row.Get("host"),
				Program:  row.Get("program"),
			}
			g, w := got, want
			g.Since, w.Since = time.Time{}, time.Time{}
			if g != w || !sameTime(got.Since, want.Since) {
				t.Fatalf("decoded %+v, table says %+v", got, want)
			}
			enc := EncodeSlot(want)
			if !bytes.Equal(enc[:], b[:SlotSize]) {
				t.Fatalf("the table's slot encodes to\n%x\nthe file holds\n%x", enc, b)
			}
			if j, _ := json.Marshal(got); string(j) != row.Get("json") {
				t.Fatalf("JSON %s, table says %s", j, row.Get("json"))
			}
		})
	}
}

// TestProtocolVectorsFiles reads each whole sidecar file as a snapshot
// does: the record at 0 and every slot entry of the table.
func TestProtocolVectorsFiles(t *testing.T) {
	_, rows, err := vectors.Read(filepath.Join(protocolDir, "files.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		b := readVector(t, "file", row.Get("file"))
		if n := mustUint(t, row.Line, row.Get("size"), 32); int(n) != len(b) || len(b) != DataSize {
			t.Fatalf("%s: %d bytes, table says %d, DataSize %d", row.Get("file"), len(b), n, DataSize)
		}
		recWant := make([]byte, RecordSize)
		if r := row.Get("record"); r != "" {
			recWant = readVector(t, "record", r)
		}
		if !bytes.Equal(b[:RecordSize], recWant[:RecordSize]) || !allZero(b[RecordSize:SlotTableOffset]) {
			t.Errorf("%s: record area differs from record/%s.bin", row.Get("file"), row.Get("record"))
		}
		named := map[int]string{}
		for _, s := range row.List("slots") {
			i, name, _ := strings.Cut(s, "=")
			named[int(mustUint(t, row.Line, i, 8))] = name
		}
		for i := range MaxSlots {
			entry := b[SlotOffset(i) : SlotOffset(i)+SlotSize]
			if name, ok := named[i]; ok {
				if !bytes.Equal(entry, readVector(t, "slot", name)) {
					t.Errorf("%s: slot %d differs from slot/%s.bin", row.Get("file"), i, name)
				}
			} else if _, err := DecodeSlot(entry); !errors.Is(err, ErrNoRecord) {
				t.Errorf("%s: slot %d: %v, want never written", row.Get("file"), i, err)
			}
		}
	}
}
