package forward

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3/vfs"
)

// TestComplete reads the ncruces vfs package's source and checks that File
// has every exported method of every interface there that embeds File: a
// new optional capability in an upgrade of ncruces fails here instead of
// being dropped silently by the wrapping.
func TestComplete(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/ncruces/go-sqlite3/vfs").Output()
	if err != nil {
		t.Fatalf("go list the ncruces vfs package: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	have := reflect.TypeFor[File]()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			iface, ok := spec.Type.(*ast.InterfaceType)
			if !ok || !embedsFile(iface) {
				return false
			}
			for _, m := range iface.Methods.List {
				for _, id := range m.Names {
					if !id.IsExported() {
						continue // fileControl: reserved for ncruces's own wrappers
					}
					checked++
					if _, ok := have.MethodByName(id.Name); !ok {
						t.Errorf("forward.File lacks %s of vfs.%s", id.Name, spec.Name.Name)
					}
				}
			}
			return false
		})
	}
	if checked < 20 {
		t.Fatalf("found only %d methods of optional interfaces in %s: the parse is wrong", checked, dir)
	}
}

func embedsFile(iface *ast.InterfaceType) bool {
	for _, m := range iface.Methods.List {
		if id, ok := m.Type.(*ast.Ident); ok && len(m.Names) == 0 && id.Name == "File" {
			return true
		}
	}
	return false
}

// recorder is a base file with the capabilities the forwarding must keep.
type recorder struct {
	vfs.File
	db    any
	psow  bool
	chunk int
}

func (r *recorder) SetDB(db any)                    { r.db = db }
func (r *recorder) SetPowersafeOverwrite(psow bool) { r.psow = psow }
func (r *recorder) PowersafeOverwrite() bool        { return r.psow }
func (r *recorder) ChunkSize(size int)              { r.chunk = size }

func TestForwards(t *testing.T) {
	base := &recorder{}
	var f vfs.File = File{base}
	f.(DBSetter).SetDB("conn")
	f.(vfs.FilePowersafeOverwrite).SetPowersafeOverwrite(true)
	f.(vfs.FileChunkSize).ChunkSize(4096)
	if base.db != "conn" || !base.psow || base.chunk != 4096 {
		t.Fatalf("base saw db %v psow %t chunk %d, want conn true 4096", base.db, base.psow, base.chunk)
	}
	if !f.(vfs.FilePowersafeOverwrite).PowersafeOverwrite() {
		t.Fatal("PowersafeOverwrite did not read the base")
	}
	if f.(vfs.FileUnwrap).Unwrap() != vfs.File(base) {
		t.Fatal("Unwrap does not return the base file")
	}
	// A base without the capability: forwarding is a no-op, not a panic.
	File{File: struct{ vfs.File }{}}.SetDB("conn")
}
