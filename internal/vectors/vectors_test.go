package vectors

import (
	"errors"
	"testing"
)

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "tab\there", "a\\b", "nul\x00end", "bad utf-8 \xff\xfe", "é ü 日本", "\r\n", "\x7f"} {
		e := Escape(s)
		for _, c := range []byte(e) {
			if c == '\t' || c == '\n' || c == '\r' {
				t.Fatalf("Escape(%q) = %q keeps a separator", s, e)
			}
		}
		got, err := Unescape(e)
		if err != nil || got != s {
			t.Fatalf("Unescape(Escape(%q)) = %q, %v", s, got, err)
		}
	}
}

func TestUnescapeRejects(t *testing.T) {
	for _, s := range []string{`\`, `a\q`, `\x`, `\x4`, `\xzz`} {
		if _, err := Unescape(s); !errors.Is(err, ErrFormat) {
			t.Errorf("Unescape(%q) = %v, want ErrFormat", s, err)
		}
	}
}

func TestParse(t *testing.T) {
	data := "# comment\n\na\tb\n1\tx\\ty\n\n# another\n2\t\n"
	header, rows, err := Parse("t", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(header) != 2 || len(rows) != 2 || rows[0].Get("b") != "x\ty" || rows[1].Get("b") != "" || rows[1].Line != 7 {
		t.Fatalf("Parse = %q %+v", header, rows)
	}
	for _, bad := range []string{"", "a\ta\n", "a\tb\n1\n", "a\tb\r\n1\t2\r\n", "a\n\\q\n"} {
		if _, _, err := Parse("t", []byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) = %v, want ErrFormat", bad, err)
		}
	}
	if got := string(Format("c", []string{"a", "b"}, [][]string{{"1", "x\ty"}})); got != "# c\na\tb\n1\tx\\ty\n" {
		t.Errorf("Format = %q", got)
	}
}

func FuzzUnescape(f *testing.F) {
	f.Add(`a\tb\x00\\`)
	f.Add("\xff")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Unescape(s)
		if err != nil {
			return
		}
		if back, err := Unescape(Escape(u)); err != nil || back != u {
			t.Fatalf("Unescape(Escape(%q)) = %q, %v", u, back, err)
		}
	})
}
