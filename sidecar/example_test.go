package sidecar_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/walguard/walguard/policy"
	"github.com/walguard/walguard/sidecar"
)

// A participant opens the sidecar next to its database, agrees on a record
// under the agreement byte, takes a slot and declares its protocol and
// family; ReadStatus sees it without taking a lock.
func Example() {
	dir, _ := os.MkdirTemp("", "sidecar-example")
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "app.db")

	s, err := sidecar.OpenSidecar(db, sidecar.OpenOptions{Perm: 0o644})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.LockAgreement(time.Second); err != nil {
		fmt.Println(err)
		return
	}
	s.WriteRecord(sidecar.Record{Generation: 1, Family: policy.FamilyWAL, Mode: policy.ModeWAL,
		Protocol: policy.ProtocolOFD, Reason: policy.ReasonPragma})
	s.AcquireSlot()
	s.HoldProtocol(policy.ProtocolOFD)
	s.HoldFamily(policy.FamilyWAL)
	s.WriteSlot(sidecar.Slot{PID: 42, Protocol: policy.ProtocolOFD, Family: policy.FamilyWAL, Mode: policy.ModeWAL})
	s.UnlockAgreement()

	st, err := sidecar.ReadStatus(db)
	fmt.Println("error:", err)
	fmt.Println("schema:", st.Schema, "agreed:", st.Record.Family, st.Record.Mode)
	fmt.Println("participants:", len(st.Participants), "pid", st.Participants[0].Entry.PID)
	fmt.Println("protocols:", st.Protocols, "families:", st.Families)
	// Output:
	// error: <nil>
	// schema: 1 agreed: wal wal
	// participants: 1 pid 42
	// protocols: [ofd] families: [wal]
}
