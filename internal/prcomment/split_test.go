package prcomment

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slipway-ml/slipway/internal/checkresult"
)

// bigResult makes a failing result whose comment is about 70,000 characters:
// many units, each with a long resource table.
func bigResult(t testing.TB) *Result {
	t.Helper()
	r := load(t, "deny.json")
	base := r.Units[0]
	r.Units = nil
	for i := 0; len(Markdown(r, testOptions)) < 70000; i++ {
		u := base
		u.Environment = fmt.Sprintf("region-%02d", i)
		p := *base.Plan
		p.Stack = u.Environment + "/credit-default"
		p.Resources = nil
		for j := 0; j < 40; j++ {
			p.Resources = append(p.Resources, checkresult.Resource{
				Address: fmt.Sprintf("module.deployment.terraform_data.shard[%d]", j),
				Type:    "terraform_data", Actions: []string{"update"}, Changed: []string{"input.artifact_digest"},
			})
		}
		u.Plan = &p
		r.Units = append(r.Units, u)
	}
	return r
}

func TestSplitSeventyThousand(t *testing.T) {
	md := Markdown(bigResult(t), testOptions)
	if len(md) < 70000 {
		t.Fatalf("report is %d bytes, want at least 70000", len(md))
	}
	parts := Split(md, MaxCommentSize, "")
	if len(parts) < 2 {
		t.Fatalf("got %d parts, want at least 2", len(parts))
	}
	for i, p := range parts {
		if len(p) > MaxCommentSize {
			t.Errorf("part %d is %d bytes, over %d", i+1, len(p), MaxCommentSize)
		}
		if n, ok := PartOf(p, ""); !ok || n != i+1 {
			t.Errorf("part %d: PartOf = %d, %v", i+1, n, ok)
		}
		checkWellFormed(t, i+1, p)
	}
}

// TestSplitInsideStructures cuts with a tiny limit so every cut lands inside
// a table, a code block or a <details>, and checks each part still renders.
func TestSplitInsideStructures(t *testing.T) {
	var b strings.Builder
	b.WriteString("<details><summary>Plan</summary>\n\n| A | B |\n|---|---|\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "| row %d | value %d |\n", i, i)
	}
	b.WriteString("\n```hcl\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "resource \"terraform_data\" \"r%d\" {}\n", i)
	}
	b.WriteString("```\n\n</details>\n\nThe end.\n")
	parts := Split(b.String(), 2048, "")
	if len(parts) < 4 {
		t.Fatalf("got %d parts, want several", len(parts))
	}
	var rows int
	for i, p := range parts {
		if len(p) > 2048 {
			t.Errorf("part %d is %d bytes", i+1, len(p))
		}
		checkWellFormed(t, i+1, p)
		rows += strings.Count(p, "| row ")
	}
	if rows != 200 {
		t.Errorf("rows across parts = %d, want 200 (none lost or doubled)", rows)
	}
	if !strings.Contains(parts[len(parts)-1], "The end.") {
		t.Error("last part lost the trailing text")
	}
}

func TestSplitSmallIsOnePart(t *testing.T) {
	parts := Split("hello\n", MaxCommentSize, "")
	want := Marker + "\n<!-- slipway:part 1/1 -->\nhello\n"
	if len(parts) != 1 || parts[0] != want {
		t.Fatalf("Split = %q, want [%q]", parts, want)
	}
}

// checkWellFormed checks a part has balanced code fences and <details>, and
// that every table starts with a header and delimiter row.
func checkWellFormed(t *testing.T, n int, p string) {
	t.Helper()
	var fences int
	var st mdState
	prevTable := false
	lines := strings.Split(p, "\n")
	for i, line := range lines {
		tl := strings.TrimSpace(line)
		if strings.HasPrefix(tl, "```") {
			fences++
		}
		inTable := strings.HasPrefix(tl, "|") && st.fence == ""
		if inTable && !prevTable {
			if i+1 >= len(lines) || !isDelimiterRow(strings.TrimSpace(lines[i+1])) {
				t.Errorf("part %d line %d: table without header: %q", n, i+1, line)
			}
		}
		prevTable = inTable
		st.advance(line + "\n")
	}
	if fences%2 != 0 {
		t.Errorf("part %d: unbalanced code fences", n)
	}
	if strings.Count(p, "<details") != strings.Count(p, "</details>") {
		t.Errorf("part %d: unbalanced <details>", n)
	}
}

func TestMarkersByKey(t *testing.T) {
	check := Split("a\n", MaxCommentSize, "")[0]
	rel := Split("b\n", MaxCommentSize, "merged-staging")[0]
	if _, ok := PartOf(rel, ""); ok {
		t.Error("the release comment was taken for the pull request check's")
	}
	if _, ok := PartOf(check, "merged-staging"); ok {
		t.Error("the check comment was taken for the release's")
	}
	if n, ok := PartOf(rel, "merged-staging"); !ok || n != 1 {
		t.Errorf("PartOf = %d, %v", n, ok)
	}
}

// FuzzSplit checks that any Markdown splits into parts within the limit
// that lose no line of the input.
func FuzzSplit(f *testing.F) {
	f.Add("| a | b |\n|---|---|\n| 1 | 2 |\n\n```go\nx\n```\n<details><summary>s</summary>\n\nhi\n</details>\n", 1100)
	f.Add(strings.Repeat("| row | é |\n", 400), 1500)
	f.Fuzz(func(t *testing.T, md string, limit int) {
		if limit < 1100 || limit > 1<<16 || !utf8.ValidString(md) {
			return
		}
		parts := Split(md, limit, "")
		var all strings.Builder
		for i, p := range parts {
			if len(p) > max(limit, 1024+headerReserve) {
				t.Fatalf("part %d: %d bytes over %d", i+1, len(p), limit)
			}
			all.WriteString(p)
		}
		for _, line := range strings.Split(md, "\n") {
			if len(line) < 200 && strings.TrimSpace(line) != "" && !strings.Contains(all.String(), line) {
				t.Fatalf("line %q lost", line)
			}
		}
	})
}

// TestSplitHostileInput keeps parts within the limit whatever the input,
// such as thousands of nested <details>.
func TestSplitHostileInput(t *testing.T) {
	for name, md := range map[string]string{
		"nested details":   strings.Repeat("<details>\n", 3000) + strings.Repeat("x\n", 3000),
		"one line details": strings.Repeat("<details>", 5000) + "\n" + strings.Repeat("y\n", 5000),
		"unclosed fences":  strings.Repeat("```\n", 5001),
		"one long line":    strings.Repeat("é", 100000),
	} {
		for i, p := range Split(md, 2048, "") {
			if len(p) > 2048 {
				t.Errorf("%s: part %d is %d bytes", name, i+1, len(p))
			}
		}
	}
}

func TestMessagesCannotOpenHTML(t *testing.T) {
	r := load(t, "deny.json")
	r.Units[0].Results[0].Message = "<details><summary>gotcha</summary>"
	md := Markdown(r, testOptions)
	if strings.Contains(md, "<details><summary>gotcha") || !strings.Contains(md, "&lt;details&gt;&lt;summary&gt;gotcha") {
		t.Error("a message opened an HTML element")
	}
}
