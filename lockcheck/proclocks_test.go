package lockcheck

import (
	"reflect"
	"slices"
	"testing"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

func TestParseProcLocks(t *testing.T) {
	// Lines as Linux 6.x prints them, a waiter, a lease, an fdinfo line,
	// and lines that must be skipped.
	text := "1: OFDLCK ADVISORY  READ -1 fe:00:9977893 1073741826 1073742335\n" +
		"2: POSIX  ADVISORY  WRITE 22285 08:02:1234 1073741824 1073741824\n" +
		"3: FLOCK  ADVISORY  READ 22284 fe:00:9977892 0 EOF\n" +
		"3: -> FLOCK  ADVISORY  WRITE 22290 fe:00:9977892 0 EOF\n" +
		"4: LEASE  ACTIVE    READ 900 103:05:77 0 EOF\n" +
		"lock:\t5: OFDLCK ADVISORY  WRITE 4321 00:2f:12 65600 65600\n" +
		"6: POSIX  ADVISORY  WRITE 1 <none> 0 EOF\n" +
		"7: POSIX  ADVISORY  WRITE 1 08:02:1234 9 3\n" +
		"garbage\n\n" +
		"8: POSIX ADVISORY WRITE x 08:02:1234 0 EOF\n" +
		"9: POSIX  ADVISORY  WRITE 12 zz:02:1234 0 EOF"
	want := []ProcLock{
		{Kind: KindOFD, Access: "read", PID: -1, Major: 0xfe, Minor: 0, Inode: 9977893, Start: 1073741826, End: 1073742335},
		{Kind: KindPOSIX, Access: "write", PID: 22285, Major: 8, Minor: 2, Inode: 1234, Start: PendingByte, End: PendingByte},
		{Kind: KindFlock, Access: "read", PID: 22284, Major: 0xfe, Inode: 9977892, Start: 0, End: -1},
		{Blocked: true, Kind: KindFlock, Access: "write", PID: 22290, Major: 0xfe, Inode: 9977892, Start: 0, End: -1},
		{Kind: KindLease, Access: "read", PID: 900, Major: 0x103, Minor: 5, Inode: 77, Start: 0, End: -1},
		{Kind: KindOFD, Access: "write", PID: 4321, Major: 0, Minor: 0x2f, Inode: 12, Start: 65600, End: 65600},
	}
	if got := ParseProcLocks(text); !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseProcLocks:\n got %+v\nwant %+v", got, want)
	}
}

func TestRangeName(t *testing.T) {
	for _, tc := range []struct {
		role       string
		start, end int64
		write      bool
		want       string
	}{
		{RoleDB, PendingByte, PendingByte, true, "PENDING"},
		{RoleDB, ReservedByte, ReservedByte, true, "RESERVED"},
		{RoleDB, SharedFirst, SharedFirst + SharedSize - 1, false, "SHARED"},
		{RoleDB, SharedFirst, SharedFirst + SharedSize - 1, true, "EXCLUSIVE"},
		{RoleDB, SharedFirst + 100, SharedFirst + 100, false, "SHARED"}, // Windows-style: one byte of the range
		{RoleDB, PendingByte, ReservedByte, true, "PENDING+RESERVED"},
		{RoleDB, PendingByte, SharedFirst + SharedSize - 1, true, "EXCLUSIVE"},
		{RoleDB, PendingByte, SharedFirst + SharedSize - 1, false, "PENDING+RESERVED+SHARED"},
		{RoleDB, 0, -1, true, "whole file"},
		{RoleDB, 100, 200, false, "bytes 100-200"},
		{RoleDB, 100, -1, false, "PENDING+RESERVED+SHARED"},
		{RoleDB, 100, -1, true, "EXCLUSIVE"},
		{RoleWAL, 100, -1, false, "bytes 100-EOF"},
		{RoleSHM, 120, 120, true, "WRITE"},
		{RoleSHM, 121, 121, true, "CHECKPOINT"},
		{RoleSHM, 122, 122, true, "RECOVER"},
		{RoleSHM, 123, 123, false, "READ0"},
		{RoleSHM, 127, 127, false, "READ4"},
		{RoleSHM, 128, 128, false, "DMS"},
		{RoleSHM, 123, 124, false, "READ0+READ1"},
		{RoleSHM, 120, 128, true, "WRITE..DMS (9 locks)"},
		{RoleSidecar, sidecar.AgreementByte, sidecar.AgreementByte, true, "agreement"},
		{RoleSidecar, sidecar.ProtocolByte(policy.ProtocolOFD), sidecar.ProtocolByte(policy.ProtocolOFD), false, "protocol:ofd"},
		{RoleSidecar, sidecar.FamilyByte(policy.FamilyWAL), sidecar.FamilyByte(policy.FamilyWAL), false, "family:wal"},
		{RoleSidecar, sidecar.SlotByte(0), sidecar.SlotByte(0), true, "slot 0"},
		{RoleSidecar, sidecar.SlotByte(127), sidecar.SlotByte(127), true, "slot 127"},
		{RoleSidecar, 0, 255, false, "bytes 0-255"},
		{RoleWAL, 0, 10, false, "bytes 0-10"},
	} {
		if got := RangeName(tc.role, tc.start, tc.end, tc.write); got != tc.want {
			t.Errorf("RangeName(%s, %d, %d, %t) = %q, want %q", tc.role, tc.start, tc.end, tc.write, got, tc.want)
		}
	}
}

func FuzzParseProcLocks(f *testing.F) {
	f.Add("1: OFDLCK ADVISORY  READ -1 fe:00:9977893 1073741826 1073742335\n")
	f.Add("3: -> FLOCK  ADVISORY  WRITE 22290 fe:00:9977892 0 EOF\n")
	f.Add("lock:\t5: POSIX ADVISORY  WRITE 4321 00:2f:12 0 0\n")
	f.Fuzz(func(t *testing.T, text string) {
		for _, l := range ParseProcLocks(text) {
			if l.Start < 0 || (l.End >= 0 && l.End < l.Start) || l.End < -1 {
				t.Fatalf("bad range %d-%d", l.Start, l.End)
			}
			for _, role := range []string{RoleDB, RoleSHM, RoleSidecar, RoleWAL} {
				_ = RangeName(role, l.Start, l.End, l.Access == "write")
			}
		}
	})
}

func TestMedianLocks(t *testing.T) {
	a := ProcLock{Kind: KindOFD, Access: "read", PID: -1, Inode: 7, Start: 1, End: 1}
	b := ProcLock{Kind: KindPOSIX, Access: "write", PID: 42, Inode: 7, Start: 2, End: 2}
	for _, tc := range []struct {
		name  string
		reads [][]ProcLock
		want  []ProcLock
	}{
		{"nothing", [][]ProcLock{nil, nil, nil}, nil},
		{"all agree", [][]ProcLock{{a, b}, {a, b}, {b, a}}, []ProcLock{a, b}},
		{"an entry shown twice once", [][]ProcLock{{a, a, b}, {a, b}, {a, b}}, []ProcLock{a, b}},
		{"an entry skipped once", [][]ProcLock{{b}, {a, b}, {a, b}}, []ProcLock{b, a}},
		{"two holders of the same range stay two", [][]ProcLock{{a, a}, {a, a, a}, {a, a}}, []ProcLock{a, a}},
		{"a lock gone in most reads", [][]ProcLock{{a, b}, {b}, {b}}, []ProcLock{b}},
	} {
		if got := medianLocks(tc.reads); !slices.Equal(got, tc.want) {
			t.Errorf("%s: medianLocks = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
