package policy

import (
	"testing"
	"time"
)

func TestAdmitProtocol(t *testing.T) {
	noLockOK := Default()
	noLockOK.AllowNoLock = true
	tests := []struct {
		name    string
		p       Policy
		mine    Protocol
		others  []Protocol
		want    Reason
		foreign []Protocol
	}{
		{"alone", Default(), ProtocolOFD, nil, ReasonNone, nil},
		{"same protocol", Default(), ProtocolOFD, []Protocol{ProtocolOFD}, ReasonNone, nil},
		{"flock joins ofd", Default(), ProtocolFlock, []Protocol{ProtocolOFD}, ReasonProtocolMismatch, nil},
		{"ofd joins flock", Default(), ProtocolOFD, []Protocol{ProtocolFlock}, ReasonProtocolMismatch, nil},
		{"dotlk joins ofd", Default(), ProtocolDotlk, []Protocol{ProtocolOFD}, ReasonProtocolMismatch, nil},
		{"nolock joins ofd", Default(), ProtocolNoLock, []Protocol{ProtocolOFD}, ReasonNoLock, nil},
		{"ofd joins nolock", Default(), ProtocolOFD, []Protocol{ProtocolNoLock}, ReasonNoLock, nil},
		{"nolock alone", Default(), ProtocolNoLock, nil, ReasonNone, nil},
		{"nolock allowed by option", noLockOK, ProtocolNoLock, []Protocol{ProtocolOFD}, ReasonNone, nil},
		{"option does not admit flock", noLockOK, ProtocolFlock, []Protocol{ProtocolOFD}, ReasonProtocolMismatch, nil},
		// OFD and POSIX fcntl locks see each other: one family.
		{"ofd joins posix", Default(), ProtocolOFD, []Protocol{ProtocolPOSIX}, ReasonNone, nil},
		{"posix joins ofd", Default(), ProtocolPOSIX, []Protocol{ProtocolOFD, ProtocolPOSIX}, ReasonNone, nil},
		{"flock joins posix", Default(), ProtocolFlock, []Protocol{ProtocolPOSIX}, ReasonProtocolMismatch, nil},
		// Holders of SQLite's own locks without a slot count too.
		{"flock beside fcntl holders without walguard", Default(), ProtocolFlock, nil, ReasonProtocolMismatch, []Protocol{ProtocolPOSIX}},
		{"flock beside an ofd holder without a slot", Default(), ProtocolFlock, nil, ReasonProtocolMismatch, []Protocol{ProtocolOFD}},
		{"ofd beside posix holders without walguard", Default(), ProtocolOFD, nil, ReasonNone, []Protocol{ProtocolPOSIX}},
		{"ofd beside flock holders without walguard", Default(), ProtocolOFD, []Protocol{ProtocolOFD}, ReasonProtocolMismatch, []Protocol{ProtocolFlock}},
		{"flock beside flock holders", Default(), ProtocolFlock, []Protocol{ProtocolFlock}, ReasonNone, []Protocol{ProtocolFlock}},
		{"dotlk beside fcntl holders", Default(), ProtocolDotlk, nil, ReasonProtocolMismatch, []Protocol{ProtocolOFD}},
		{"nolock beside fcntl holders", Default(), ProtocolNoLock, nil, ReasonNoLock, []Protocol{ProtocolPOSIX}},
		{"nolock beside fcntl holders, allowed", noLockOK, ProtocolNoLock, nil, ReasonNone, []Protocol{ProtocolPOSIX}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.AdmitProtocol(ProtocolRequest{Mine: tt.mine, Others: tt.others, Foreign: tt.foreign})
			if d.Allow != (tt.want == ReasonNone) || d.Reason != tt.want {
				t.Fatalf("got %+v, want reason %v", d, tt.want)
			}
			if !d.Allow && d.Why == "" {
				t.Fatal("a refusal must say why")
			}
		})
	}
}

func TestCompatible(t *testing.T) {
	for a := range Protocol(NumProtocols) {
		for b := range Protocol(NumProtocols) {
			fcntl := (a == ProtocolOFD || a == ProtocolPOSIX) && (b == ProtocolOFD || b == ProtocolPOSIX)
			if got := Compatible(a, b); got != (a == b || fcntl) || got != Compatible(b, a) {
				t.Errorf("Compatible(%s, %s) = %v", a, b, got)
			}
		}
	}
}

func TestAdmitFamily(t *testing.T) {
	local := FamilyRequest{SharesMemory: true}
	nfsWAL := Default()
	nfsWAL.NetworkFS = NetworkFSAllowWAL
	twoHosts := Default()
	twoHosts.AllowSecondHostWAL = true
	links := Default()
	links.AllowHardLinks = true
	with := func(f func(*FamilyRequest)) FamilyRequest { r := local; f(&r); return r }
	tests := []struct {
		name string
		p    Policy
		req  FamilyRequest
		want Reason
	}{
		{"wal alone", Default(), with(func(r *FamilyRequest) { r.Want = FamilyWAL }), ReasonNone},
		{"rollback alone", Default(), with(func(r *FamilyRequest) { r.Want = FamilyRollback }), ReasonNone},
		{"wal while rollback live", Default(), with(func(r *FamilyRequest) { r.Want = FamilyWAL; r.OthersInOther = true }), ReasonFamilyMismatch},
		{"rollback while wal live", Default(), with(func(r *FamilyRequest) { r.Want = FamilyRollback; r.OthersInOther = true }), ReasonFamilyMismatch},
		{"wal on nfs", Default(), with(func(r *FamilyRequest) { r.Want = FamilyWAL; r.SharesMemory = false }), ReasonWALUnsupported},
		{"rollback on nfs", Default(), with(func(r *FamilyRequest) { r.Want = FamilyRollback; r.SharesMemory = false }), ReasonNone},
		{"wal on nfs allowed", nfsWAL, with(func(r *FamilyRequest) { r.Want = FamilyWAL; r.SharesMemory = false }), ReasonNone},
		{"wal beside a rollback declaration once the header says wal", Default(), with(func(r *FamilyRequest) {
			r.Want, r.OthersInOther, r.HeaderSaysWAL = FamilyWAL, true, true
		}), ReasonNone},
		{"wal beside a rollback writer mid-transaction under a wal header", Default(), with(func(r *FamilyRequest) {
			r.Want, r.OthersInOther, r.HeaderSaysWAL, r.ReservedHeld = FamilyWAL, true, true, true
		}), ReasonFamilyMismatch},
		{"rollback beside a wal declaration whatever the header", Default(), with(func(r *FamilyRequest) {
			r.Want, r.OthersInOther, r.HeaderSaysWAL = FamilyRollback, true, true
		}), ReasonFamilyMismatch},
		{"wal beside a wal writer through another name", Default(), with(func(r *FamilyRequest) {
			r.Want, r.WALUnderAnotherName = FamilyWAL, true
		}), ReasonFamilyMismatch},
		{"wal beside a wal writer through another name, several names allowed", links, with(func(r *FamilyRequest) {
			r.Want, r.WALUnderAnotherName = FamilyWAL, true
		}), ReasonNone},
		{"rollback beside a wal writer through another name", Default(), with(func(r *FamilyRequest) {
			r.Want, r.WALUnderAnotherName = FamilyRollback, true
		}), ReasonNone},
		{"wal after settled incompatibility", Default(), with(func(r *FamilyRequest) {
			r.Want, r.Agreed, r.AgreedReason = FamilyWAL, FamilyRollback, ReasonIncompatible
		}), ReasonWALUnsupported},
		{"wal after network settle", Default(), with(func(r *FamilyRequest) {
			r.Want, r.Agreed, r.AgreedReason = FamilyWAL, FamilyRollback, ReasonNetworkFS
		}), ReasonWALUnsupported},
		{"wal after a rollback pragma", Default(), with(func(r *FamilyRequest) {
			r.Want, r.Agreed, r.AgreedReason = FamilyWAL, FamilyRollback, ReasonPragma
		}), ReasonNone},
		{"wal with a second host", Default(), with(func(r *FamilyRequest) { r.Want = FamilyWAL; r.OtherHostsLive = []string{"b"} }), ReasonSecondHost},
		{"rollback with a second host", Default(), with(func(r *FamilyRequest) { r.Want = FamilyRollback; r.OtherHostsLive = []string{"b"} }), ReasonNone},
		{"second host allowed", twoHosts, with(func(r *FamilyRequest) { r.Want = FamilyWAL; r.OtherHostsLive = []string{"b"} }), ReasonNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.AdmitFamily(tt.req)
			if d.Allow != (tt.want == ReasonNone) || d.Reason != tt.want {
				t.Fatalf("got %+v, want reason %v", d, tt.want)
			}
		})
	}
}

func TestTransition(t *testing.T) {
	local := FamilyRequest{SharesMemory: true}
	alone := Default()
	alone.DowngradeWhenAlone = true
	settled := local
	settled.Agreed, settled.AgreedReason = FamilyRollback, ReasonIncompatible
	tests := []struct {
		name string
		p    Policy
		req  TransitionRequest
		want Reason
	}{
		{"same family", Default(), TransitionRequest{From: FamilyWAL, To: FamilyWAL, OthersInFrom: true, FamilyRequest: local}, ReasonNone},
		{"downgrade alone", Default(), TransitionRequest{From: FamilyWAL, To: FamilyRollback, FamilyRequest: local}, ReasonLeaveWAL},
		{"downgrade alone, record says wal", Default(), TransitionRequest{From: FamilyRollback, To: FamilyRollback, HeaderSaysWAL: true, FamilyRequest: local}, ReasonLeaveWAL},
		{"downgrade alone allowed by option", alone, TransitionRequest{From: FamilyWAL, To: FamilyRollback, FamilyRequest: local}, ReasonNone},
		{"deliberate downgrade alone", Default(), TransitionRequest{From: FamilyWAL, To: FamilyRollback, Deliberate: true, FamilyRequest: local}, ReasonNone},
		{"deliberate change with others live", Default(), TransitionRequest{From: FamilyRollback, To: FamilyRollback, Deliberate: true, OthersLive: true, FamilyRequest: local}, ReasonOthersLive},
		{"downgrade while wal live", Default(), TransitionRequest{From: FamilyWAL, To: FamilyRollback, OthersInFrom: true, FamilyRequest: local}, ReasonDowngradeWhileWAL},
		{"option keeps downgrade while wal live", alone, TransitionRequest{From: FamilyWAL, To: FamilyRollback, OthersInFrom: true, FamilyRequest: local}, ReasonDowngradeWhileWAL},
		{"upgrade while rollback live", Default(), TransitionRequest{From: FamilyRollback, To: FamilyWAL, OthersInFrom: true, FamilyRequest: local}, ReasonUpgradeWhileLive},
		{"upgrade alone", Default(), TransitionRequest{From: FamilyRollback, To: FamilyWAL, FamilyRequest: local}, ReasonNone},
		{"upgrade on nfs", Default(), TransitionRequest{From: FamilyRollback, To: FamilyWAL}, ReasonWALUnsupported},
		{"upgrade after settled rollback", Default(), TransitionRequest{From: FamilyRollback, To: FamilyWAL, FamilyRequest: settled}, ReasonWALUnsupported},
		{"deliberate upgrade tests a settled rollback again", Default(), TransitionRequest{From: FamilyRollback, To: FamilyWAL, Deliberate: true, FamilyRequest: settled}, ReasonNone},
		{"rollback to rollback", Default(), TransitionRequest{From: FamilyRollback, To: FamilyRollback, FamilyRequest: local}, ReasonNone},
		{"rollback on a fresh database while wal live", Default(), TransitionRequest{To: FamilyRollback,
			FamilyRequest: FamilyRequest{SharesMemory: true, OthersInOther: true}}, ReasonFamilyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.Transition(tt.req)
			if d.Allow != (tt.want == ReasonNone) || d.Reason != tt.want {
				t.Fatalf("got %+v, want reason %v", d, tt.want)
			}
		})
	}
}

// Invariant 3, as a table: only a deterministic signal settles rollback,
// and never while the header says WAL or a live participant uses it.
func TestSettle(t *testing.T) {
	tests := []struct {
		name string
		req  SettleRequest
		want Reason
	}{
		{"incompatible on a fresh database", SettleRequest{Lasting: true, Class: ClassIncompatible}, ReasonNone},
		{"transient never settles", SettleRequest{Class: ClassTransient}, ReasonTransientFault},
		{"other never settles", SettleRequest{Class: ClassOther}, ReasonTransientFault},
		{"mismatch never settles", SettleRequest{Class: ClassMismatch}, ReasonTransientFault},
		{"header says wal", SettleRequest{Lasting: true, Class: ClassIncompatible, HeaderSaysWAL: true}, ReasonHeaderSaysWAL},
		{"wal live", SettleRequest{Lasting: true, Class: ClassIncompatible, WALLive: true}, ReasonDowngradeWhileWAL},
		{"transient with wal header", SettleRequest{Class: ClassTransient, HeaderSaysWAL: true}, ReasonTransientFault},
		{"incompatible once is not lasting", SettleRequest{Class: ClassIncompatible}, ReasonTransientFault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Default().Settle(tt.req)
			if d.Allow != (tt.want == ReasonNone) || d.Reason != tt.want {
				t.Fatalf("got %+v, want reason %v", d, tt.want)
			}
		})
	}
}

func TestSettleProbeDelay(t *testing.T) {
	p := Default()
	for i, want := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond} {
		if got := p.SettleProbeDelay(i + 1); got != want {
			t.Errorf("probe %d: %v, want %v", i+1, got, want)
		}
	}
	if got := p.SettleProbeDelay(100); got != time.Second {
		t.Errorf("probe 100: %v, want the one-second cap", got)
	}
	p.SettleSpacing = -1
	if got := p.SettleProbeDelay(2); got != 0 {
		t.Errorf("negative spacing: %v", got)
	}
}

func TestVocabulary(t *testing.T) {
	for i := range 8 {
		m := JournalMode(i)
		if got, ok := ParseJournalMode(m.String()); ok != (i >= 1 && i <= 6) || (ok && got != m) {
			t.Errorf("ParseJournalMode(%q) = %v, %v", m, got, ok)
		}
	}
	// SQLite's own parse (pragma.c): a prefix of a name, ASCII case
	// folded, first match in the order delete, persist, off, truncate,
	// memory, wal. The root package holds the same spellings against
	// SQLite itself.
	for in, want := range map[string]JournalMode{
		"WAL": ModeWAL, "wa": ModeWAL, "W": ModeWAL, "wAl": ModeWAL,
		"": ModeDelete, "d": ModeDelete, "DELETE": ModeDelete, "del": ModeDelete,
		"p": ModePersist, "pers": ModePersist, "o": ModeOff, "OFF": ModeOff,
		"t": ModeTruncate, "trunc": ModeTruncate, "m": ModeMemory, "mem": ModeMemory,
		"wal\x00x": ModeWAL,
		" WAL ":    ModeUnknown, "wall": ModeUnknown, "deletes": ModeUnknown, "x": ModeUnknown,
		"ｗａｌ": ModeUnknown, "perſist": ModeUnknown, "1": ModeUnknown, "-1": ModeUnknown, "query": ModeUnknown,
	} {
		if got, ok := ParseJournalMode(in); got != want || ok != (want != ModeUnknown) {
			t.Errorf("ParseJournalMode(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	if ModeTruncate.Family() != FamilyRollback || ModeUnknown.Family() != FamilyUnknown {
		t.Error("family of a mode")
	}
	for i := range NumProtocols + 1 {
		p := Protocol(i)
		if got, ok := ParseProtocol(p.String()); ok != (i >= 1 && i < NumProtocols) || (ok && got != p) {
			t.Errorf("ParseProtocol(%q) = %v, %v", p, got, ok)
		}
	}
	if FamilyOfHeader(1, 1) != FamilyRollback || FamilyOfHeader(2, 2) != FamilyWAL || FamilyOfHeader(1, 2) != FamilyUnknown {
		t.Error("FamilyOfHeader")
	}
	if FamilyWAL.Other() != FamilyRollback || FamilyUnknown.Other() != FamilyUnknown {
		t.Error("Other")
	}
	for r := range Reason(40) {
		if s := r.String(); s == "" || (r.Refusal() != (r >= 16)) {
			t.Errorf("reason %d: %q", r, s)
		}
	}
}

// AdmitsBeside is AdmitProtocol's rule for one holder, for every pair of
// protocols, with and without AllowNoLock.
func TestAdmitsBesideAgreesWithAdmitProtocol(t *testing.T) {
	for _, allow := range []bool{false, true} {
		p := Default()
		p.AllowNoLock = allow
		for mine := range Protocol(NumProtocols) {
			for o := range Protocol(NumProtocols) {
				want := p.AdmitProtocol(ProtocolRequest{Mine: mine, Foreign: []Protocol{o}}).Allow
				if got := p.AdmitsBeside(mine, o); got != want {
					t.Errorf("AllowNoLock=%v: AdmitsBeside(%s, %s) = %v, AdmitProtocol says %v", allow, mine, o, got, want)
				}
			}
		}
	}
}
