package sqltest_test

import (
	"testing"

	"github.com/walguard/walguard/internal/sqltest"
)

func TestQuery(t *testing.T) {
	c := sqltest.Open(t, ":memory:")
	if got := sqltest.Query(t, c, "SELECT 40 + 2"); got != "42" {
		t.Fatalf("Query = %q, want 42", got)
	}
}
