package ext_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlocks returns the fenced code blocks of README.md's section
// "Other languages: libwalguard", as (language, text) pairs.
func readmeBlocks(t *testing.T) [][2]string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Other languages: libwalguard\n")
	if start < 0 {
		t.Fatal("README.md has no section \"Other languages: libwalguard\"")
	}
	section := text[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var blocks [][2]string
	for {
		i := strings.Index(section, "```")
		if i < 0 {
			return blocks
		}
		section = section[i+3:]
		nl := strings.IndexByte(section, '\n')
		lang := section[:nl]
		section = section[nl+1:]
		j := strings.Index(section, "```")
		blocks = append(blocks, [2]string{lang, section[:j]})
		section = section[j+3:]
	}
}

// Every example of the README's libwalguard section runs as written, in a
// fresh directory: the one-line build, both Python ways, the sqlite3 CLI
// and the C program; each opens app.db through walguard and prints "wal".
func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	needLib(t)
	src := mustAbs(t, "src")
	pyDir := mustAbs(t, "python")
	blocks := readmeBlocks(t)
	if len(blocks) != 5 {
		t.Fatalf("%d code blocks in the README's libwalguard section, this test knows 5", len(blocks))
	}
	built := false
	for i, b := range blocks {
		lang, code := b[0], b[1]
		dir := t.TempDir()
		if built || i > 0 {
			if err := os.Symlink(libPath, filepath.Join(dir, "libwalguard.so")); err != nil {
				t.Fatal(err)
			}
		}
		var cmd *exec.Cmd
		switch {
		case lang == "sh" && strings.HasPrefix(code, "cc "):
			cmd = exec.Command("bash", "-c", strings.ReplaceAll(code, "ext/src/", src+"/"))
			built = true
		case lang == "sh":
			need(t, "sqlite3")
			cmd = exec.Command("bash", "-c", code)
		case lang == "python":
			cmd = exec.Command(debianPython(t), "-c", strings.ReplaceAll(code, `"ext/python"`, `"`+pyDir+`"`))
		case lang == "c":
			if err := os.WriteFile(filepath.Join(dir, "example.c"), []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := compile(filepath.Join(dir, "example"), []string{filepath.Join(dir, "example.c")}, "-lsqlite3"); err != nil {
				t.Fatal(err)
			}
			cmd = exec.Command(filepath.Join(dir, "example"))
		default:
			t.Fatalf("block %d: language %q", i, lang)
		}
		cmd.Dir = dir
		out := strings.TrimSpace(run(t, cmd))
		if strings.HasPrefix(code, "cc ") {
			if _, err := os.Stat(filepath.Join(dir, "libwalguard.so")); err != nil || out != "" {
				t.Fatalf("the build line: %v %q", err, out)
			}
			continue
		}
		if out != "wal" {
			t.Fatalf("block %d (%s) printed %q, want wal", i, lang, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "app.db-walguard")); err != nil {
			t.Fatalf("block %d (%s) left no sidecar: %v", i, lang, err)
		}
	}
}
