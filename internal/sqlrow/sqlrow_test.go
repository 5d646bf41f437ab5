package sqlrow_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/walguard/walguard/internal/sqlrow"
	"github.com/walguard/walguard/internal/sqltest"
)

func TestText(t *testing.T) {
	c := sqltest.Open(t, "file:"+filepath.ToSlash(filepath.Join(t.TempDir(), "t.db")))
	sqltest.Exec(t, c, "CREATE TABLE t(x TEXT); INSERT INTO t VALUES('a'), ('b')")

	tests := []struct {
		sql     string
		want    string
		wantErr error // matched with errors.Is; nil wants no error
	}{
		{sql: "SELECT x FROM t ORDER BY x", want: "a"},
		{sql: "SELECT count(*), 'ignored' FROM t", want: "2"},
		{sql: "SELECT x FROM t WHERE x = 'z'", wantErr: sqlrow.ErrNoRow},
		{sql: "SELECT y FROM t", wantErr: sqlite3.ERROR},
		{sql: "SELECT x FROM missing", wantErr: sqlite3.ERROR},
	}
	for _, tt := range tests {
		got, err := sqlrow.Text(c, tt.sql)
		if tt.wantErr == nil {
			if err != nil || got != tt.want {
				t.Errorf("Text(%q) = %q, %v; want %q, nil", tt.sql, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) || got != "" {
			t.Errorf("Text(%q) = %q, %v; want \"\", %v", tt.sql, got, err, tt.wantErr)
		}
		if errors.Is(err, sqlrow.ErrNoRow) && !strings.Contains(err.Error(), tt.sql) {
			t.Errorf("Text(%q) error %q does not name the statement", tt.sql, err)
		}
	}
}
