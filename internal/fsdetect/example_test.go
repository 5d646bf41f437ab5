package fsdetect_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/walguard/walguard/internal/fsdetect"
)

// Detect answers for a database that does not exist yet from its
// directory; WAL is only offered where SharesMemory is true. The answer
// depends on the machine, so the example has no fixed output.
func ExampleDetect() {
	dir, err := os.MkdirTemp("", "fsdetect")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	info, err := fsdetect.Detect(filepath.Join(dir, "app.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	if info.SharesMemory {
		fmt.Printf("%s: WAL can be offered\n", info.Type)
	} else {
		fmt.Printf("%s: rollback journal only\n", info.Type)
	}
}
