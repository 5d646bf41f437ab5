package vfs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/errclass"
	"github.com/walguard/walguard/internal/nlink"
	"github.com/walguard/walguard/internal/vectors"
	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// TestProtocolScenarios holds the shim's decisions to the decision table
// of testdata/protocol/scenarios.tsv, which the C extension is tested
// against too (the columns are documented in that directory's README.md).
// Each row's facts go to the functions the shim decides with (policy's,
// and the pure parts of this package's gates), and the refusal goes
// through toSQLite, the one place refusals become SQLite codes.
func TestProtocolScenarios(t *testing.T) {
	_, rows, err := vectors.Read(filepath.Join("..", "testdata", "protocol", "scenarios.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 50 {
		t.Fatalf("scenarios.tsv has %d rows", len(rows))
	}
	gates := map[string]int{}
	ids := map[string]bool{}
	for _, row := range rows {
		id := row.Get("id")
		if ids[id] {
			t.Fatalf("line %d: id %s repeated", row.Line, id)
		}
		ids[id] = true
		gates[row.Get("gate")]++
		t.Run(id, func(t *testing.T) {
			s := parseScenario(t, row)
			got := s.decide(t)
			want := outcome{expect: row.Get("expect"), reason: row.Get("reason"), code: row.Get("code"), records: row.Get("records")}
			if got != want {
				t.Fatalf("line %d: got %+v, table says %+v", row.Line, got, want)
			}
		})
	}
	for _, g := range []string{"protocol", "family", "journal_mode", "settle", "record", "header", "names"} {
		if gates[g] == 0 {
			t.Errorf("no scenario for gate %s", g)
		}
	}
}

// A scenario is a row's facts, parsed.
type scenario struct {
	gate, call    string
	protocol      policy.Protocol
	liveProtocols []policy.Protocol
	foreign       sidecar.DatabaseLocks
	want          policy.Family
	pragma        string
	liveFamilies  []policy.Family
	header        policy.Family
	reservedHeld  bool
	record        sidecar.Record
	recordState   string
	sharesMemory  bool
	otherHosts    []string
	walElsewhere  bool // wal_under_another_name
	operator      bool
	errorClass    policy.Class
	lasting       bool
	nlink         int
	pol           policy.Policy
	line          int
	liveAnything  bool
}

// An outcome is what the table's last columns say.
type outcome struct{ expect, reason, code, records string }

func enumByName[T interface {
	~uint8
	String() string
}](t *testing.T, line int, col, s string) T {
	t.Helper()
	for v := range 256 {
		if T(v).String() == s {
			return T(v)
		}
	}
	t.Fatalf("line %d, column %s: unknown name %q", line, col, s)
	return 0
}

func parseScenario(t *testing.T, row vectors.Row) scenario {
	t.Helper()
	s := scenario{gate: row.Get("gate"), call: row.Get("call"), pragma: row.Get("pragma"), line: row.Line,
		recordState: row.Get("record_state"), otherHosts: row.List("other_hosts"), pol: policy.Default()}
	family := func(col string) policy.Family {
		if v := row.Get(col); v != "" {
			return enumByName[policy.Family](t, row.Line, col, v)
		}
		return policy.FamilyUnknown
	}
	boolean := func(col string) bool {
		b, err := row.Bool(col)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if v := row.Get("protocol"); v != "" {
		s.protocol = enumByName[policy.Protocol](t, row.Line, "protocol", v)
	}
	for _, p := range row.List("live_protocols") {
		s.liveProtocols = append(s.liveProtocols, enumByName[policy.Protocol](t, row.Line, "live_protocols", p))
	}
	for _, l := range row.List("foreign_locks") {
		switch l {
		case "posix":
			s.foreign.Fcntl, s.foreign.FcntlPID = true, 4242
		case "ofd":
			s.foreign.Fcntl, s.foreign.FcntlPID = true, -1
		case "flock":
			s.foreign.Flock = true
		default:
			t.Fatalf("line %d: foreign lock %q", row.Line, l)
		}
	}
	for _, f := range row.List("live_families") {
		s.liveFamilies = append(s.liveFamilies, enumByName[policy.Family](t, row.Line, "live_families", f))
	}
	s.want = family("want")
	s.header = family("header")
	s.record.Family = family("record_family")
	s.record.Mode = defaultMode(s.record.Family)
	if v := row.Get("record_reason"); v != "" {
		s.record.Reason = enumByName[policy.Reason](t, row.Line, "record_reason", v)
	}
	if from := family("switch_from"); from != policy.FamilyUnknown {
		s.record.Switch = sidecar.SwitchIntent{Pending: true, From: from, Slot: 1}
	}
	s.sharesMemory = boolean("shares_memory")
	s.reservedHeld = boolean("reserved_held")
	s.walElsewhere = boolean("wal_under_another_name")
	s.operator = boolean("operator")
	s.lasting = boolean("lasting")
	if v := row.Get("error_class"); v != "" {
		s.errorClass = enumByName[policy.Class](t, row.Line, "error_class", v)
	}
	if v := row.Get("nlink"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("line %d: nlink %q", row.Line, v)
		}
		s.nlink = n
	}
	for _, flag := range row.List("policy") {
		switch flag {
		case "DowngradeWhenAlone":
			s.pol.DowngradeWhenAlone = true
		case "AllowHardLinks":
			s.pol.AllowHardLinks = true
		case "AllowNoLock":
			s.pol.AllowNoLock = true
		case "AllowSecondHostWAL":
			s.pol.AllowSecondHostWAL = true
		case "NetworkFSAllowWAL":
			s.pol.NetworkFS = policy.NetworkFSAllowWAL
		case "FlipRefuse":
			s.pol.ForeignFlip = policy.FlipRefuse
		case "RecordRefuse":
			s.pol.CorruptRecord = policy.RecordRefuse
		default:
			t.Fatalf("line %d: policy flag %q", row.Line, flag)
		}
	}
	s.liveAnything = len(s.liveProtocols) > 0 || len(s.liveFamilies) > 0
	return s
}

// finalCode is the code a refusal that retrying cannot fix gets at each
// call (toSQLite's final argument there).
func finalCode(t *testing.T, call string) sqlite3.ErrorCode {
	switch call {
	case "open", "open-wal", "open-journal":
		return sqlite3.CANTOPEN
	case "pragma":
		return sqlite3.ERROR
	case "lock", "write-header", "read-header":
		return sqlite3.IOERR
	}
	t.Fatalf("unknown call %q", call)
	return 0
}

// refused turns a refusal into the table's outcome, through toSQLite.
func (s scenario) refused(t *testing.T, r policy.Reason) outcome {
	err := toSQLite(&RefusalError{DB: "app.db", Op: s.call, Reason: r}, finalCode(t, s.call))
	c, ok := errclass.Code(err)
	if !ok {
		t.Fatalf("toSQLite gave %v, no SQLite code", err)
	}
	return outcome{expect: "refuse", reason: r.String(), code: codeName(t, c.Code())}
}

func codeName(t *testing.T, c sqlite3.ErrorCode) string {
	for _, n := range []struct {
		c    sqlite3.ErrorCode
		name string
	}{{sqlite3.BUSY, "BUSY"}, {sqlite3.CANTOPEN, "CANTOPEN"}, {sqlite3.ERROR, "ERROR"}, {sqlite3.IOERR, "IOERR"}} {
		if n.c == c {
			return n.name
		}
	}
	t.Fatalf("unexpected code %v", c)
	return ""
}

func (s scenario) decision(t *testing.T, d policy.Decision) outcome {
	if d.Allow {
		return outcome{expect: "admit"}
	}
	return s.refused(t, d.Reason)
}

// familyRequest gathers a family join's facts as familyFacts does:
// SQLite's RESERVED lock is tested only for a WAL join under a WAL header,
// and the other family's declarations then only while it is held.
func (s scenario) familyRequest(want policy.Family) policy.FamilyRequest {
	req := policy.FamilyRequest{Want: want, Agreed: s.record.Family, AgreedReason: s.record.Reason,
		SharesMemory: s.sharesMemory, OtherHostsLive: s.otherHosts, HeaderSaysWAL: s.header == policy.FamilyWAL,
		WALUnderAnotherName: want == policy.FamilyWAL && s.walElsewhere}
	if want == policy.FamilyWAL && req.HeaderSaysWAL {
		if req.ReservedHeld = s.reservedHeld; !req.ReservedHeld {
			return req
		}
	}
	req.OthersInOther = slices.Contains(s.liveFamilies, want.Other())
	return req
}

func (s scenario) decide(t *testing.T) outcome {
	switch s.gate {
	case "protocol":
		var foreign []policy.Protocol
		if s.sharesMemory { // foreignProtocols probes only there
			foreign = countForeign(s.foreign)
		}
		return s.decision(t, s.pol.AdmitProtocol(policy.ProtocolRequest{Mine: s.protocol, Others: s.liveProtocols, Foreign: foreign}))
	case "family":
		return s.decision(t, s.pol.AdmitFamily(s.familyRequest(s.want)))
	case "journal_mode":
		to := s.want
		if s.call == "pragma" {
			mode, gated := gatedJournalMode(s.pragma)
			if !gated {
				return outcome{expect: "pass"}
			}
			to = mode.Family()
		}
		req, leaving := transitionFacts(to, s.record, s.header, s.operator)
		if s.operator {
			req.OthersLive = s.liveAnything
		}
		if leaving != policy.FamilyUnknown && leaving != to {
			req.OthersInFrom = slices.Contains(s.liveFamilies, leaving)
		}
		req.FamilyRequest = s.familyRequest(to)
		return s.decision(t, s.pol.Transition(req))
	case "settle":
		d := s.pol.Settle(policy.SettleRequest{Class: s.errorClass, Lasting: s.lasting,
			HeaderSaysWAL: s.header == policy.FamilyWAL || s.record.Family == policy.FamilyWAL,
			WALLive:       slices.Contains(s.liveFamilies, policy.FamilyWAL)})
		if d.Allow {
			return outcome{expect: "admit", records: policy.ReasonIncompatible.String()}
		}
		return outcome{expect: "refuse", reason: d.Reason.String()}
	case "record":
		cause := map[string]error{"ok": nil, "no-record": sidecar.ErrNoRecord, "checksum": sidecar.ErrChecksum,
			"not-sidecar": sidecar.ErrNotSidecar, "truncated": sidecar.ErrTruncated, "invalid": sidecar.ErrInvalid,
			"version": sidecar.ErrVersion}
		err, ok := cause[s.recordState]
		if !ok {
			t.Fatalf("line %d: record_state %q", s.line, s.recordState)
		}
		if err == nil {
			return outcome{expect: "admit"}
		}
		switch recordRepair(fmt.Errorf("record: %w", err), s.pol) {
		case repairCreate:
			if len(s.liveProtocols) > 0 { // noticeReplacedSidecar: the mirror shows live protocols
				return outcome{expect: "admit", records: policy.ReasonSidecarReplaced.String()}
			}
			return outcome{expect: "admit", records: policy.ReasonFirstUse.String()}
		case repairRebuild:
			return outcome{expect: "admit", records: policy.ReasonRebuilt.String()}
		case repairRefuse, repairRefuseNewer:
			return s.refused(t, policy.ReasonSidecarCorrupt)
		}
		t.Fatalf("line %d: a decoding error taken for an I/O fault", s.line)
	case "header":
		switch headerVerdict(s.record, s.header) {
		case headerUnknown, headerAgreed:
			return outcome{expect: "admit"}
		case headerFirstUse:
			return outcome{expect: "admit", records: policy.ReasonFirstUse.String()}
		case headerFlipped:
			if s.pol.ForeignFlip == policy.FlipRefuse {
				return s.refused(t, policy.ReasonForeignFlipRefused)
			}
			return outcome{expect: "admit", records: policy.ReasonForeignFlip.String()}
		}
	case "names":
		// The real check, on a real file with that many names.
		dir := t.TempDir()
		path := filepath.Join(dir, "app.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < s.nlink; i++ {
			if err := os.Link(path, filepath.Join(dir, fmt.Sprintf("link%d.db", i))); err != nil {
				t.Skipf("hard links: %v", err)
			}
		}
		n, known, _ := nlink.Count(path)
		if !known || int(n) != s.nlink {
			t.Skipf("this system does not count links (%d, %v)", n, known)
		}
		g := New(Options{Policy: &s.pol})
		err := g.refuseSecondName(g.db(path), path, n, known)
		if err == nil {
			return outcome{expect: "admit"}
		}
		e, ok := err.(*RefusalError)
		if !ok {
			t.Fatalf("refuseSecondName: %v", err)
		}
		return s.refused(t, e.Reason)
	}
	t.Fatalf("line %d: unknown gate %q", s.line, s.gate)
	return outcome{}
}

// TestProtocolJournalModes holds the pragma's parsing to
// testdata/protocol/journal_modes.tsv: the mode SQLite takes a value for,
// and whether walguard decides it at the pragma.
func TestProtocolJournalModes(t *testing.T) {
	_, rows, err := vectors.Read(filepath.Join("..", "testdata", "protocol", "journal_modes.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("journal_modes.tsv has no rows")
	}
	for _, row := range rows {
		value := row.Get("value")
		mode, ok := policy.ParseJournalMode(value)
		got := ""
		if ok {
			got = mode.String()
		}
		if got != row.Get("mode") {
			t.Errorf("line %d: %q parses as %q, table says %q", row.Line, value, got, row.Get("mode"))
		}
		wantGated, err := row.Bool("gated")
		if err != nil {
			t.Fatal(err)
		}
		if _, gated := gatedJournalMode(value); gated != wantGated {
			t.Errorf("line %d: %q gated %v, table says %v", row.Line, value, gated, wantGated)
		}
	}
}
