package hostid_test

import (
	"fmt"

	"github.com/walguard/walguard/internal/hostid"
)

// Identity fits the sidecar's host field and is never empty.
func ExampleIdentity() {
	id := hostid.Identity()
	fmt.Println(id != "" && len(id) <= hostid.MaxLen)
	// Output: true
}
