package testproc

import (
	"fmt"
	"os"
	"path/filepath"
)

// tempEnv are the variables os.TempDir reads, on every platform.
var tempEnv = []string{"TMPDIR", "TMP", "TEMP"}

// RunInPrivateTemp runs a package's tests (run is usually m.Run) with the
// temporary directory set to a fresh one of their own, inherited by every
// child process, and returns run's exit code, or 1 if the tests or their
// children left anything in it: tests clean up everything they create.
// The directory is removed either way.
//
//	func TestMain(m *testing.M) {
//		testproc.Dispatch(roles)
//		os.Exit(testproc.RunInPrivateTemp(m.Run))
//	}
func RunInPrivateTemp(run func() int) int {
	dir, err := os.MkdirTemp("", "walguard-test-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "testproc: private temporary directory: %v\n", err)
		return 1
	}
	saved := map[string]string{}
	for _, v := range tempEnv {
		if old, ok := os.LookupEnv(v); ok {
			saved[v] = old
		}
		os.Setenv(v, dir)
	}
	code := run()
	for _, v := range tempEnv {
		if old, ok := saved[v]; ok {
			os.Setenv(v, old)
		} else {
			os.Unsetenv(v)
		}
	}
	left, err := leftovers(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testproc: read the private temporary directory: %v\n", err)
		code = max(code, 1)
	}
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "testproc: the tests left %d files in the temporary directory (removed now; tests must clean up what they create, e.g. with t.TempDir):\n", len(left))
		for _, l := range left {
			fmt.Fprintf(os.Stderr, "\t%s\n", l)
		}
		code = max(code, 1)
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintf(os.Stderr, "testproc: remove the private temporary directory: %v\n", err)
		code = max(code, 1)
	}
	return code
}

// leftovers lists what is in dir, up to two levels deep, with sizes.
func leftovers(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if info, err := d.Info(); err == nil && !d.IsDir() {
			rel = fmt.Sprintf("%s (%d bytes)", rel, info.Size())
		}
		out = append(out, rel)
		if d.IsDir() && filepath.Dir(rel) != "." {
			return filepath.SkipDir
		}
		return nil
	})
	return out, err
}
