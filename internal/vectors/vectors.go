// Package vectors reads and writes the tables of testdata/protocol, the
// test vectors that the Go shim and the C extension share: tab-separated
// text with a header row, one record a line, cells escaped so that any
// byte string fits. testdata/protocol/README.md is the format's reference;
// this package is its Go reader and writer, used by tests only.
package vectors

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrFormat is wrapped by every error about a table's form.
var ErrFormat = errors.New("malformed vector table")

// A Row is one line of a table: its cells by column name, and where it is.
type Row struct {
	Line  int               // 1-based line number in the file
	Cells map[string]string // unescaped cell text by column name
}

// Get returns the cell of column col; it panics on a column the table does
// not have, which is a mistake of the test, not of the data.
func (r Row) Get(col string) string {
	v, ok := r.Cells[col]
	if !ok {
		panic(fmt.Sprintf("vectors: no column %q", col))
	}
	return v
}

// List returns the cell of column col split at commas; an empty cell is
// an empty list.
func (r Row) List(col string) []string {
	v := r.Get(col)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Bool returns the cell of column col as a boolean: "yes" is true, "no"
// and the empty cell false.
func (r Row) Bool(col string) (bool, error) {
	switch v := r.Get(col); v {
	case "yes":
		return true, nil
	case "no", "":
		return false, nil
	default:
		return false, fmt.Errorf("%w: line %d, column %s: %q is not yes or no", ErrFormat, r.Line, col, v)
	}
}

// Read reads a table: the first line that is neither empty nor a comment
// (starting with #) names the columns; every later such line is a row with
// exactly one cell per column.
func Read(path string) (header []string, rows []Row, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return Parse(path, data)
}

// Parse is Read of data already in memory; name is used in errors.
func Parse(name string, data []byte) (header []string, rows []Row, err error) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, line := range lines {
		n := i + 1
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasSuffix(line, "\r") {
			return nil, nil, fmt.Errorf("%w: %s line %d: CR before LF", ErrFormat, name, n)
		}
		fields := strings.Split(line, "\t")
		if header == nil {
			header = fields
			seen := map[string]bool{}
			for _, h := range header {
				if h == "" || seen[h] {
					return nil, nil, fmt.Errorf("%w: %s line %d: empty or repeated column name %q", ErrFormat, name, n, h)
				}
				seen[h] = true
			}
			continue
		}
		if len(fields) != len(header) {
			return nil, nil, fmt.Errorf("%w: %s line %d: %d cells, header has %d", ErrFormat, name, n, len(fields), len(header))
		}
		row := Row{Line: n, Cells: make(map[string]string, len(header))}
		for i, f := range fields {
			v, err := Unescape(f)
			if err != nil {
				return nil, nil, fmt.Errorf("%s line %d, column %s: %w", name, n, header[i], err)
			}
			row.Cells[header[i]] = v
		}
		rows = append(rows, row)
	}
	if header == nil {
		return nil, nil, fmt.Errorf("%w: %s: no header row", ErrFormat, name)
	}
	return header, rows, nil
}

// Write writes a table with a leading comment (each line prefixed with
// "# "), the header and the rows, escaping every cell.
func Write(path, comment string, header []string, rows [][]string) error {
	return os.WriteFile(path, Format(comment, header, rows), 0o644)
}

// Format is Write's content.
func Format(comment string, header []string, rows [][]string) []byte {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		if comment == "" {
			break
		}
		b.WriteString(strings.TrimRight("# "+line, " "))
		b.WriteByte('\n')
	}
	b.WriteString(strings.Join(header, "\t"))
	b.WriteByte('\n')
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(Escape(c))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Escape writes s as a cell: backslash, tab, newline and carriage return
// as \\, \t, \n and \r; other bytes below 0x20, 0x7F and bytes that are
// not part of valid UTF-8 as \xHH; everything else as it is.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c < 0x80:
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				fmt.Fprintf(&b, `\x%02x`, c)
				i++
				continue
			}
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		i++
	}
	return b.String()
}

// Unescape is the inverse of Escape. It accepts exactly the escapes \\,
// \t, \n, \r and \xHH (two hex digits, either case).
func Unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("%w: lone backslash at the end of %q", ErrFormat, s)
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			if i+2 >= len(s) {
				return "", fmt.Errorf("%w: short \\x escape in %q", ErrFormat, s)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("%w: bad \\x escape in %q", ErrFormat, s)
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", fmt.Errorf("%w: unknown escape \\%c in %q", ErrFormat, s[i], s)
		}
	}
	return b.String(), nil
}
