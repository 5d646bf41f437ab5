package doccheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// snippet is one fenced code block of a Markdown file.
type snippet struct {
	file string // relative to the repository root
	line int    // of the opening fence
	lang string
	text string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the repository root %s: %v", root, err)
	}
	return root
}

// markdownFiles lists README.md and docs/*.md.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, docs...)
}

// fencedBlocks returns the fenced code blocks of a Markdown document.
func fencedBlocks(name string, r io.Reader) ([]snippet, error) {
	var (
		out  []snippet
		cur  *snippet
		body strings.Builder
	)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fence := strings.HasPrefix(strings.TrimSpace(line), "```")
		switch {
		case cur == nil && fence:
			cur = &snippet{file: name, line: n, lang: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "```"))}
			body.Reset()
		case cur != nil && fence:
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if cur != nil {
		return out, fmt.Errorf("%s:%d: code block never closed", name, cur.line)
	}
	return out, sc.Err()
}

func TestFencedBlocks(t *testing.T) {
	doc := "text\n```go\nx := 1\n```\n\n```\n$ ls\n```\n"
	got, err := fencedBlocks("d.md", strings.NewReader(doc))
	want := []snippet{{"d.md", 2, "go", "x := 1\n"}, {"d.md", 6, "", "$ ls\n"}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("fencedBlocks = %q, %v; want %q", got, err, want)
	}
	if _, err := fencedBlocks("d.md", strings.NewReader("```go\nx := 1\n")); err == nil {
		t.Fatal("an unclosed block was accepted")
	}
}

// importBlock matches the import declarations a fragment starts with.
var importBlock = regexp.MustCompile(`^(?s)(\s*(import\s*\([^)]*\)|import\s+(\w+\s+|_\s+)?"[^"]*")\s*)+`)

// goFile turns a snippet into a Go source file: as is if it is one, else
// its imports at file level and the rest in a function body (statements)
// or at file level (declarations).
func goFile(s snippet) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(s.text), "package ") {
		return s.text, nil
	}
	imports := importBlock.FindString(s.text)
	rest := s.text[len(imports):]
	// Line directives keep positions those of the Markdown file.
	restLine := s.line + 1 + strings.Count(imports, "\n")
	head := fmt.Sprintf("package snippet\n\n//line %s:%d\n%s\n", s.file, s.line+1, imports)
	asFunc := fmt.Sprintf("%sfunc _() {\n//line %s:%d\n%s\n}\n", head, s.file, restLine, rest)
	if _, err := parser.ParseFile(token.NewFileSet(), "", asFunc, 0); err == nil {
		return asFunc, nil
	}
	asDecls := fmt.Sprintf("%s//line %s:%d\n%s", head, s.file, restLine, rest)
	if _, err := parser.ParseFile(token.NewFileSet(), "", asDecls, 0); err == nil {
		return asDecls, nil
	}
	_, err := parser.ParseFile(token.NewFileSet(), "", asFunc, 0)
	return "", err
}

// looksLikeGo tells an untagged block that is Go code apart from shell
// sessions, program output and JSON.
func looksLikeGo(text string) bool {
	for line := range strings.Lines(text) {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "$ ") || strings.HasPrefix(l, "#") {
			return false
		}
		if strings.Contains(l, ":= ") || strings.HasPrefix(l, "import (") || strings.HasPrefix(l, "import \"") || strings.HasPrefix(l, "func ") || strings.HasPrefix(l, "package ") {
			return true
		}
	}
	return false
}

func TestLooksLikeGo(t *testing.T) {
	for text, want := range map[string]bool{
		"conn, err := sqlite3.Open(dsn)\n": true,
		"import (\n\t\"fmt\"\n)\n":         true,
		"$ go run ./cmd/walguard check\n":  false,
		"{\"db\": \"app.db\"}\n":           false,
		"verdict: consistent\n":            false,
	} {
		if got := looksLikeGo(text); got != want {
			t.Errorf("looksLikeGo(%q) = %v, want %v", text, got, want)
		}
	}
}

// exportData runs go list in the module root and returns the export data
// file of every package the given ones depend on.
func exportData(t *testing.T, root string, pkgs []string) map[string]string {
	t.Helper()
	args := append([]string{"list", "-e", "-export", "-deps", "-json=ImportPath,Export,Error", "--"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	files := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Export string
			Error              *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("a snippet imports %s: %s", p.ImportPath, p.Error.Err)
		}
		files[p.ImportPath] = p.Export
	}
	return files
}

// TestDocSnippetsCompile type-checks every Go block of README.md and
// docs/*.md against the packages of this module and its dependencies.
func TestDocSnippetsCompile(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is needed to find the packages snippets import")
	}
	root := repoRoot(t)
	var blocks []snippet
	for _, path := range markdownFiles(t, root) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		bs, err := fencedBlocks(filepath.ToSlash(rel), f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, bs...)
	}

	fset := token.NewFileSet()
	var files []*ast.File
	var from []snippet
	imports := map[string]bool{}
	for _, b := range blocks {
		switch {
		case b.lang == "" && looksLikeGo(b.text):
			t.Errorf("%v: an untagged code block looks like Go; tag it ```go so that it is compiled", b)
			continue
		case b.lang != "go":
			continue
		}
		src, err := goFile(b)
		if err != nil {
			t.Errorf("%v: not Go: %v", b, err)
			continue
		}
		// A name without a directory: //line names are relative to it.
		f, err := parser.ParseFile(fset, fmt.Sprintf("snippet%d.go", len(files)), src, parser.ParseComments)
		if err != nil {
			t.Errorf("%v: not Go: %v", b, err)
			continue
		}
		for _, spec := range f.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			imports[p] = true
		}
		files, from = append(files, f), append(from, b)
	}
	if len(files) == 0 {
		t.Fatal("no Go code block found: is the repository root right?")
	}
	exports := exportData(t, root, slices.Sorted(func(yield func(string) bool) {
		for p := range imports {
			if !yield(p) {
				return
			}
		}
	}))
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	for i, f := range files {
		conf := types.Config{Importer: imp, Error: func(err error) {
			var te types.Error
			if errors.As(err, &te) && te.Soft && (strings.Contains(te.Msg, "declared and not used") || strings.Contains(te.Msg, "imported and not used")) {
				return // excerpts may leave what they declare unused
			}
			t.Errorf("%v: does not compile: %v", from[i], err)
		}}
		conf.Check("snippet", fset, []*ast.File{f}, nil)
	}
	t.Logf("%d Go code blocks compiled", len(files))
}
