package forward_test

import (
	"fmt"

	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"

	"github.com/walguard/walguard/internal/forward"
)

// countingFile gates one method, WriteAt, and forwards everything else.
type countingFile struct {
	forward.File
	writes int
}

func (f *countingFile) WriteAt(p []byte, off int64) (int, error) {
	f.writes++
	return f.File.WriteAt(p, off)
}

// A wrapper embeds forward.File and overrides only its gate; optional
// capabilities of the base file, such as SQLITE_FCNTL_SIZE_HINT, still
// reach it.
func Example() {
	base := &vfsutil.SliceFile{}
	var f vfs.File = &countingFile{File: forward.File{File: base}}

	f.WriteAt([]byte("page"), 0)
	f.(vfs.FileSizeHint).SizeHint(4096)
	size, _ := base.Size()
	fmt.Println("writes:", f.(*countingFile).writes, "base size:", size)
	_, unwrapped := vfsutil.UnwrapFile[*vfsutil.SliceFile](f)
	fmt.Println("unwraps to the base:", unwrapped)
	// Output:
	// writes: 1 base size: 4096
	// unwraps to the base: true
}
