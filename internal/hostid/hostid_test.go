package hostid

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/walguard/walguard/internal/vectors"
)

func TestCompose(t *testing.T) {
	const id = "3F2A9C01aabbccddeeff001122334455\n"
	long := strings.Repeat("h", 60)
	tests := []struct {
		name, host, machineID, want string
	}{
		{"host and id", "builder-1", id, "builder-1/3f2a9c01"},
		{"host only", "builder-1", "", "builder-1"},
		{"short id left out", "builder-1", "3f2a9c", "builder-1"},
		{"non-hex id left out", "builder-1", "3f2a9c0z11111111", "builder-1"},
		{"spaces trimmed", "  builder-1 \n", "  3f2a9c01  ", "builder-1/3f2a9c01"},
		{"no hostname", "", id, "unknown/3f2a9c01"},
		{"nothing", "", "", "unknown"},
		{"blank hostname", " \t", "", "unknown"},
		{"slash and control bytes", "a/b\x00c d", "", "a_b_c_d"},
		{"non-ASCII", "hôte", "", "h__te"},
		{"long host with id", long, id, long[:MaxLen-9] + "/3f2a9c01"},
		{"long host alone", long, "", long[:MaxLen]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compose(tt.host, tt.machineID)
			if got != tt.want {
				t.Errorf("compose(%q, %q) = %q, want %q", tt.host, tt.machineID, got, tt.want)
			}
			if got == "" || len(got) > MaxLen {
				t.Errorf("compose(%q, %q) = %q: empty or longer than %d", tt.host, tt.machineID, got, MaxLen)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	got := Identity()
	if got == "" || len(got) > MaxLen {
		t.Fatalf("Identity() = %q: empty or longer than %d bytes", got, MaxLen)
	}
	if again := Identity(); again != got {
		t.Errorf("Identity() changed between calls: %q, then %q", got, again)
	}
	host, err := os.Hostname()
	if err == nil && host != "" && len(host) < MaxLen-9 && !strings.ContainsAny(host, "/ ") {
		if !strings.HasPrefix(got, host) {
			t.Errorf("Identity() = %q, does not start with the hostname %q", got, host)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	raw, err := os.ReadFile("/etc/machine-id")
	if err != nil || len(strings.TrimSpace(string(raw))) < 8 {
		t.Skipf("/etc/machine-id not usable here: %v", err)
	}
	suffix := "/" + strings.ToLower(strings.TrimSpace(string(raw)))[:8]
	if !strings.HasSuffix(got, suffix) {
		t.Errorf("Identity() = %q, want it to end with %q from /etc/machine-id", got, suffix)
	}
}

// TestProtocolHostIDs holds compose to testdata/protocol/hostids.tsv, which
// every implementation on one host must reproduce.
func TestProtocolHostIDs(t *testing.T) {
	_, rows, err := vectors.Read(filepath.Join("..", "..", "testdata", "protocol", "hostids.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("hostids.tsv has no rows")
	}
	for _, row := range rows {
		if got := compose(row.Get("hostname"), row.Get("machine_id")); got != row.Get("identity") {
			t.Errorf("line %d (%s): compose = %q, table says %q", row.Line, row.Get("case"), got, row.Get("identity"))
		}
	}
}
