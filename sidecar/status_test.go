package sidecar

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadStatusAbsent(t *testing.T) {
	db := filepath.Join(t.TempDir(), "app.db")
	st, err := ReadStatus(db)
	if err != nil || st.Exists || st.Record != nil || st.Schema != StatusSchema || st.Path != SidecarPath(db) {
		t.Fatalf("ReadStatus of an absent sidecar: %+v, %v", st, err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schema":1`, `"participants":[]`, `"protocols":[]`, `"families":[]`, `"exists":false`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), `"record"`) {
		t.Errorf("%s has a record for an absent sidecar", b)
	}
}
