package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"debug/buildinfo"
)

// stressGoTool is the go command used to build -flock-workers.
var stressGoTool = "go"

// flockSource says where the source of the running binary is, so that a
// -tags sqlite3_flock build of the same program can be made.
type flockSource struct {
	info *debug.BuildInfo
	// dir is the module directory the running binary was compiled from,
	// when it still exists and holds that module; empty otherwise.
	dir string
}

// ownSource finds the running binary's module: its build information and
// the directory it was compiled in (known from this file's compiled path,
// unless the binary was built with -trimpath).
func ownSource() (flockSource, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Path == "" {
		return flockSource{}, errors.New("-flock-workers needs this binary's build information, and it has none")
	}
	src := flockSource{info: info}
	if dir := stressSourceDir(); dir != "" && modulePath(filepath.Join(dir, "go.mod")) == info.Main.Path {
		src.dir = dir
	}
	return src, nil
}

// stressSourceDir returns the module directory this file was compiled in,
// or "" for a binary built with -trimpath. Tests replace it.
var stressSourceDir = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	// file is <module>/cmd/walguard/stress_flock.go.
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// modulePath returns the module path a go.mod file declares, or "".
func modulePath(gomod string) string {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// released reports whether v is a version the go command can fetch: not
// "(devel)", and not a pseudo-version of a modified work tree.
func released(v string) bool {
	return v != "" && v != "(devel)" && !strings.HasSuffix(v, "+dirty")
}

// buildFlock builds the running program with -tags sqlite3_flock into dir
// and returns the binary's path. It builds from the module directory the
// program was compiled in, else (for a released version) from the module
// cache or proxy by version, and checks that the result is the same module
// at the same version with the same dependencies. Every error is one
// sentence naming what is missing.
func buildFlock(dir string) (string, error) {
	gotool, err := exec.LookPath(stressGoTool)
	if err != nil {
		return "", fmt.Errorf("-flock-workers builds a sqlite3_flock copy of walguard and needs the go tool, which is not in PATH")
	}
	src, err := ownSource()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "walguard-flock")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	// A test binary's package path ends in ".test"; the command's does not.
	pkg := strings.TrimSuffix(src.info.Path, ".test")
	var cmd *exec.Cmd
	switch {
	case src.dir != "":
		cmd = exec.Command(gotool, "build", "-tags", "sqlite3_flock", "-o", bin, pkg)
		cmd.Dir = src.dir
	case released(src.info.Main.Version):
		cmd = exec.Command(gotool, "install", "-tags", "sqlite3_flock", pkg+"@"+src.info.Main.Version)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off")
		bin = filepath.Join(dir, filepath.Base(pkg))
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
	default:
		return "", fmt.Errorf("-flock-workers needs the source of this walguard (%s %s) to build a sqlite3_flock copy, and it is neither where the binary was built nor a released version the go command can fetch; use a walguard built in a checkout (go install ./cmd/walguard)",
			src.info.Main.Path, src.info.Main.Version)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("-flock-workers could not build a sqlite3_flock copy of walguard in %s (%v): %s",
			cmd.Dir, err, strings.TrimSpace(string(out)))
	}
	built, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("-flock-workers built %s but cannot read its build information: %v", bin, err)
	}
	if diff := sameBuild(src.info, built); diff != "" {
		return "", fmt.Errorf("-flock-workers built walguard from %s but it is not the running version (%s); rebuild walguard from that checkout", cmd.Dir, diff)
	}
	return bin, nil
}

// sameBuild compares the parts of two builds that make them the same
// program: main module, version, revision and dependencies. It returns ""
// when they match, else what differs.
func sameBuild(want, got *debug.BuildInfo) string {
	// "(devel)" (a test binary, or a build without version control
	// information) carries no version to compare.
	if want.Main.Path != got.Main.Path || want.Main.Version != "(devel)" && want.Main.Version != got.Main.Version {
		return fmt.Sprintf("%s %s, want %s %s", got.Main.Path, got.Main.Version, want.Main.Path, want.Main.Version)
	}
	settings := func(bi *debug.BuildInfo) map[string]string {
		m := map[string]string{}
		for _, s := range bi.Settings {
			m[s.Key] = s.Value
		}
		return m
	}
	ws, gs := settings(want), settings(got)
	for _, k := range []string{"vcs.revision", "vcs.modified"} {
		if ws[k] != "" && ws[k] != gs[k] {
			return fmt.Sprintf("%s %s, want %s", k, gs[k], ws[k])
		}
	}
	deps := func(bi *debug.BuildInfo) map[string]string {
		m := map[string]string{}
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			m[d.Path] = d.Version
		}
		return m
	}
	wd, gd := deps(want), deps(got)
	for p, v := range wd {
		if g, ok := gd[p]; ok && g != v {
			return fmt.Sprintf("%s %s, want %s", p, gd[p], v)
		}
	}
	return ""
}
