package sidecar

import (
	"encoding/json"

	"github.com/walguard/walguard/policy"
)

// StatusSchema is the version of Status's JSON form, carried in its
// "schema" key. It grows when a key changes meaning or goes away; keys
// may be added without a new version. docs/status.md describes the form.
const StatusSchema = 1

// A Status is the sidecar of one database as PRAGMA walguard_status and
// "walguard check -json" both show it, under the key "sidecar": the
// record, the protocol and family bytes held, and the live participants.
// Build it with [ReadStatus]; the JSON form is documented in
// docs/status.md.
type Status struct {
	Schema int     `json:"schema"` // StatusSchema
	Path   string  `json:"path"`   // the sidecar's path
	Exists bool    `json:"exists"`
	Record *Record `json:"record,omitempty"` // nil when absent or RecordErr is set
	// RecordErr is DecodeRecord's error; errors.Is matches ErrNoRecord,
	// ErrChecksum, ... It is not in the JSON form; RecordError is.
	RecordErr     error               `json:"-"`
	RecordError   string              `json:"record_error,omitempty"`
	Error         string              `json:"error,omitempty"` // reading the sidecar failed
	AgreementHeld bool                `json:"agreement_held"`  // someone is joining or changing the record
	Protocols     []policy.Protocol   `json:"protocols"`       // protocol bytes someone holds, by name in JSON
	Families      []policy.Family     `json:"families"`        // family bytes someone holds, by name in JSON
	Participants  []ParticipantStatus `json:"participants"`
	// ReplacedWhileInUse: live participants hold declarations on the
	// database's mirror bytes that this sidecar does not show (the sidecar
	// was removed, replaced or renamed over while they use the database);
	// UnlistedSlots are their slots. See mirror.go.
	ReplacedWhileInUse bool  `json:"replaced_while_in_use"`
	UnlistedSlots      []int `json:"unlisted_slots"`
}

// A ParticipantStatus is a live participant slot, as Status shows it.
type ParticipantStatus struct {
	Slot  int    `json:"slot"`
	Entry *Slot  `json:"entry,omitempty"` // nil when the entry cannot be decoded
	Error string `json:"error,omitempty"` // why Entry is nil
}

// ReadStatus reads the sidecar of the database at dbPath, as
// [ReadSnapshot] does (testing locks, never taking them), and returns it
// as a Status. An error reading it is returned and also kept in
// Status.Error, with whatever was read before it.
func ReadStatus(dbPath string) (Status, error) {
	snap, err := ReadSnapshot(dbPath)
	s := Status{
		Schema:        StatusSchema,
		Path:          snap.Path,
		Exists:        snap.Exists,
		RecordErr:     snap.RecordErr,
		AgreementHeld: snap.AgreementHeld,
		Protocols:     snap.Protocols,
		Families:      snap.Families,
		Participants:  []ParticipantStatus{},

		ReplacedWhileInUse: snap.Replaced,
		UnlistedSlots:      append([]int{}, snap.Unlisted...),
	}
	if err != nil {
		s.Error = err.Error()
	}
	switch {
	case !snap.Exists:
	case snap.RecordErr != nil:
		s.RecordError = snap.RecordErr.Error()
	default:
		rec := snap.Record
		s.Record = &rec
	}
	for _, p := range snap.Participants {
		ps := ParticipantStatus{Slot: p.Index}
		if p.SlotErr != nil {
			ps.Error = p.SlotErr.Error()
		} else {
			entry := p.Slot
			ps.Entry = &entry
		}
		s.Participants = append(s.Participants, ps)
	}
	return s, err
}

// MarshalJSON encodes protocols and families by name.
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status
	return json.Marshal(struct {
		plain
		Protocols []string `json:"protocols"`
		Families  []string `json:"families"`
	}{plain(s), names(s.Protocols), names(s.Families)})
}

func names[T interface{ String() string }](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = v.String()
	}
	return out
}
