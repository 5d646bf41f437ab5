package lockcheck

import (
	"reflect"
	"testing"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

func TestForeignFrom(t *testing.T) {
	lock := func(file, kind string, pid int, start, end int64, rng string) Lock {
		return Lock{File: file, Kind: kind, Access: "read", PID: pid, Command: map[int]string{10: "app", 20: "python3", 30: "flock.test", 0: ""}[pid], Start: start, End: end, Range: rng}
	}
	side := sidecar.Status{
		Protocols:    []policy.Protocol{policy.ProtocolOFD},
		Participants: []sidecar.ParticipantStatus{{Slot: 0, Entry: &sidecar.Slot{PID: 10, Host: "h"}}},
	}
	locks := []Lock{
		lock(RoleDB, KindOFD, 10, SharedFirst, SharedFirst+SharedSize-1, "SHARED"),                     // walguard's
		lock(RoleDB, KindOFD, 10, sidecar.MirrorBase+16, sidecar.MirrorBase+16, "mirror protocol:ofd"), // walguard's
		lock(RoleDB, KindPOSIX, 20, SharedFirst, SharedFirst+SharedSize-1, "SHARED"),
		lock(RoleSHM, KindPOSIX, 20, SHMDMSByte, SHMDMSByte, "DMS"),
		lock(RoleSHM, KindPOSIX, 30, SHMDMSByte, SHMDMSByte, "DMS"), // the flock build's -shm lock
		lock(RoleDB, KindFlock, 30, 0, -1, "whole file"),
		lock(RoleDB, KindOFD, 0, SharedFirst, SharedFirst+SharedSize-1, "SHARED"), // no owner found; an OFD participant is live
		lock(RoleSidecar, KindOFD, 40, sidecar.AgreementByte, sidecar.AgreementByte, "agreement"),
	}
	blocked := lock(RoleDB, KindPOSIX, 50, PendingByte, PendingByte, "PENDING")
	blocked.Blocked = true
	locks = append(locks, blocked)

	got := foreignFrom(locks, side, "h")
	want := []ForeignParticipant{
		{PID: 20, Command: "python3", Protocol: KindPOSIX, Locks: []string{"db SHARED", "shm DMS"}},
		{PID: 30, Command: "flock.test", Protocol: KindFlock, Locks: []string{"shm DMS", "db whole file"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}

	// Without an OFD participant, an OFD lock whose owner is unknown is
	// someone without walguard; a participant on another host is no
	// reason to skip a local pid.
	side = sidecar.Status{Participants: []sidecar.ParticipantStatus{{Entry: &sidecar.Slot{PID: 20, Host: "other"}}}}
	got = foreignFrom(locks[2:7], side, "h")
	if len(got) != 3 || got[0].PID != 20 || got[2].PID != 0 || got[2].Protocol != KindOFD {
		t.Fatalf("got %+v, want python3, the flock holder and an unknown OFD holder", got)
	}
	if got := foreignFrom(nil, sidecar.Status{}, "h"); got == nil || len(got) != 0 {
		t.Fatalf("no locks: %#v, want an empty list", got)
	}
}
