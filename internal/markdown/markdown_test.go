package markdown

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEscaping(t *testing.T) {
	for _, tc := range []struct {
		name, fn, in, want string
	}{
		{"image", "Text", "![x](https://evil.example/p.png)", `\!\[x\](https\://evil.example/p.png)`},
		{"html", "Text", "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"},
		{"entity", "Text", "&lt;b&gt;", "&amp;lt;b&amp;gt;"},
		{"backticks", "Text", "a`b", "a\\`b"},
		{"emphasis", "Text", "*x* _y_ roc_auc ~~z~~ $x$", `\*x\* \_y\_ roc_auc \~\~z\~\~ \$x\$`},
		{"pipe and newline", "Cell", "a|b\nc", `a\|b<br>c`},
		{"newline inline", "Text", "a\r\nb", "a b"},
		{"mention", "Text", "ask @risk-lead, mail ops@acme.example", "ask @\u200drisk-lead, mail ops@acme.example"},
		{"www", "Text", "see www.evil.example", `see www\.evil.example`},
		{"www in capitals", "Text", "WwW.evil.example", `WwW\.evil.example`},
		{"www at the end", "Text", "www.", `www\.`},
		{"mention first", "Text", "@ops", "@\u200dops"},
		{"neither", "Text", "roc_auc 0.91 www", "roc_auc 0.91 www"},
		{"code", "Code", "a`b", "``a`b``"},
		{"code fence run", "Code", "x```y`", "```` x```y` ````"},
		{"code pipe in a cell", "CodeCell", "a|b", "`a\\|b`"},
		{"code empty", "Code", "", ""},
		{"html text", "HTML", "s</code></summary><img>", "s&lt;/code&gt;&lt;/summary&gt;&lt;img&gt;"},
	} {
		fn := map[string]func(string) string{"Text": Text, "Cell": Cell, "Code": Code, "CodeCell": CodeCell, "HTML": HTML}[tc.fn]
		if diff := cmp.Diff(tc.want, fn(tc.in)); diff != "" {
			t.Errorf("%s: %s(%q) (-want +got):\n%s", tc.name, tc.fn, tc.in, diff)
		}
	}
}

// TestCodeSpanHolds: however many backticks s has, the span's fence is
// longer than any run inside it, so s cannot close it.
func TestCodeSpanHolds(t *testing.T) {
	for _, s := range []string{"`", "``", "a``b```c", "`<img>`", strings.Repeat("`", 9)} {
		c := Code(s)
		n := 0
		for n < len(c) && c[n] == '`' {
			n++
		}
		inner := c[n : len(c)-n]
		if strings.Contains(inner, strings.Repeat("`", n)) {
			t.Errorf("Code(%q) = %q: the fence occurs inside", s, c)
		}
	}
}
