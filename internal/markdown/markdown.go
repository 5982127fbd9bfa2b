// Package markdown escapes text for GitHub-flavoured Markdown, the way
// GitHub renders it: the PR comment, the check run summary, the job
// summary and the audit report's Markdown all put names and messages from
// specs, evidence and policies (which a pull request's author writes) into
// Markdown, and none of it may turn into a link, an image, HTML, a
// mention or a broken table.
package markdown

import (
	"html"
	"regexp"
	"strings"
)

// escape backslash-escapes the ASCII punctuation that starts Markdown
// syntax inside a line (CommonMark lets any ASCII punctuation be escaped,
// and an escaped character is always literal), and turns the characters
// that start HTML and entities into entities, which GitHub never
// re-interprets. "$" keeps GitHub's math from starting, "|" keeps table
// cells whole, the ":" of "://" keeps a URL from becoming an autolink. An
// underscore between letters or digits (roc_auc) starts nothing and is
// left alone, so names stay readable.
func escape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '<':
			b.WriteString("&lt;")
			continue
		case '>':
			b.WriteString("&gt;")
			continue
		case '&':
			b.WriteString("&amp;")
			continue
		case '\\', '`', '*', '[', ']', '!', '|', '~', '$':
			b.WriteByte('\\')
		case '_':
			if i == 0 || i == len(s)-1 || !alnum(s[i-1]) || !alnum(s[i+1]) {
				b.WriteByte('\\')
			}
		case ':':
			if strings.HasPrefix(s[i:], "://") {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// mentionRE finds @mentions, which would notify people and teams from a
// bot's comment whenever a spec or message names them.
var mentionRE = regexp.MustCompile(`(^|[^\w\x60])@([A-Za-z0-9])`)

// wwwRE finds www. autolinks, which GitHub links without a scheme.
var wwwRE = regexp.MustCompile(`(?i)\bwww\.`)

// Text makes s literal inline text: no emphasis, code, link, image, HTML,
// entity, autolink, math, mention or table cell boundary; line breaks
// become spaces, so s stays on its line.
func Text(s string) string {
	s = escape(oneLine(s, " "))
	// The regular expressions are most of what a report's Markdown costs
	// (a portfolio escapes millions of cells), and most text can match
	// neither: they run only on text that holds a "www." or an @.
	if hasWWW(s) {
		s = wwwRE.ReplaceAllStringFunc(s, func(w string) string { return w[:3] + `\.` })
	}
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	// A zero-width joiner after @ keeps the mention readable and inert.
	return mentionRE.ReplaceAllString(s, "${1}@\u200d${2}")
}

// hasWWW says whether s holds "www." in any case, which wwwRE needs to
// match.
func hasWWW(s string) bool {
	for i := 3; i < len(s); i++ {
		if s[i] == '.' && s[i-1]|0x20 == 'w' && s[i-2]|0x20 == 'w' && s[i-3]|0x20 == 'w' {
			return true
		}
	}
	return false
}

// Cell is Text for a table cell, keeping line breaks as <br>.
func Cell(s string) string {
	parts := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, p := range parts {
		parts[i] = Text(p)
	}
	return strings.Join(parts, "<br>")
}

// Code puts s in a code span whose fence is longer than any run of
// backticks in s, so s cannot close it early; inside a code span nothing
// else is interpreted. Empty s gives "".
func Code(s string) string {
	return code(s, false)
}

// CodeCell is Code inside a table cell, where GitHub splits cells on "|"
// before it reads code spans: the pipe is escaped, and shows as "|".
func CodeCell(s string) string {
	return code(s, true)
}

func code(s string, cell bool) string {
	s = oneLine(s, " ")
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.TrimSpace(s) != "") {
		// CommonMark strips one space on each side when both are there.
		s = " " + s + " "
	}
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return fence + s + fence
}

// HTML escapes s for text inside raw HTML (a <summary>, a <code>).
func HTML(s string) string {
	return html.EscapeString(oneLine(s, " "))
}

func oneLine(s, sep string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", sep), "\n", sep), "\r", sep)
}

// WithoutCodeSpans replaces each code span with CODE, as CommonMark
// reads them, for tests that check what can render as markup: a run of n
// backticks not escaped by a backslash opens one, the next run of exactly
// n closes it.
func WithoutCodeSpans(md string) string {
	var b strings.Builder
	run := func(i int) int {
		j := i
		for j < len(md) && md[j] == '`' {
			j++
		}
		return j - i
	}
	for i := 0; i < len(md); {
		switch {
		case md[i] == '\\' && i+1 < len(md):
			b.WriteString(md[i : i+2])
			i += 2
		case md[i] == '`':
			n, end := run(i), -1
			for j := i + n; j < len(md); {
				if md[j] != '`' {
					j++
					continue
				}
				m := run(j)
				if m == n {
					end = j + m
					break
				}
				j += m
			}
			if end < 0 {
				b.WriteString(md[i : i+n])
				i += n
				continue
			}
			b.WriteString("CODE")
			i = end
		default:
			b.WriteByte(md[i])
			i++
		}
	}
	return b.String()
}
