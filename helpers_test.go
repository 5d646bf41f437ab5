package walguard_test

import (
	"os"
	"testing"

	"github.com/walguard/walguard/internal/testproc"
)

func TestMain(m *testing.M) {
	testproc.Dispatch(childRoles)
	os.Exit(testproc.RunInPrivateTemp(func() int {
		defer removeFlockChild()
		return m.Run()
	}))
}
