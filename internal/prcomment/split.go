package prcomment

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxCommentSize is GitHub's limit on an issue comment body.
const MaxCommentSize = 65536

// headerReserve is room kept in each part for its markers and heading.
const headerReserve = 256

var partRE = regexp.MustCompile(`<!-- slipway:part (\d+)/(\d+) -->`)

// PartOf reports whether body is one of the sticky comments named key
// (see MarkerFor) and which part it is (1-based); comments from before
// parts existed count as part 1.
func PartOf(body, key string) (part int, ok bool) {
	if !strings.Contains(body, MarkerFor(key)) {
		return 0, false
	}
	m := partRE.FindStringSubmatch(body)
	if m == nil {
		return 1, true
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return 1, true
	}
	return n, true
}

// Split cuts a rendered report into comment bodies of at most limit bytes
// (bytes bound GitHub's character count from above). Each body starts with
// the marker of key (see MarkerFor) and its part number. Cuts fall between blocks where possible; a
// table cut in two repeats its header, a code block is closed and reopened,
// and an open <details> is closed and reopened, so every part renders on
// its own.
func Split(md string, limit int, key string) []string {
	budget := limit - headerReserve
	if budget < 1024 {
		budget = 1024
	}
	var chunks []string
	var cur strings.Builder
	flush := func() {
		if strings.TrimSpace(cur.String()) != "" {
			chunks = append(chunks, cur.String())
		}
		cur.Reset()
	}
	for _, blk := range blocks(md) {
		if cur.Len()+len(blk) <= budget {
			cur.WriteString(blk)
			continue
		}
		flush()
		if len(blk) <= budget {
			cur.WriteString(blk)
			continue
		}
		pieces := cutBlock(blk, budget)
		for _, p := range pieces[:len(pieces)-1] {
			chunks = append(chunks, p)
		}
		cur.WriteString(pieces[len(pieces)-1])
	}
	flush()
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	out := make([]string, len(chunks))
	for i, c := range chunks {
		head := fmt.Sprintf("%s\n<!-- slipway:part %d/%d -->\n", MarkerFor(key), i+1, len(chunks))
		if len(chunks) > 1 {
			head += fmt.Sprintf("**Slipway report, part %d of %d**\n\n", i+1, len(chunks))
		}
		out[i] = head + c
	}
	return out
}

// blocks cuts md at blank lines outside code blocks and <details>, the
// places where a comment can end without breaking anything.
func blocks(md string) []string {
	var out []string
	var cur strings.Builder
	var st mdState
	for _, line := range strings.SplitAfter(md, "\n") {
		if line == "" {
			continue
		}
		cur.WriteString(line)
		st.advance(line)
		if strings.TrimSpace(line) == "" && st.clean() {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// cutBlock cuts one block larger than budget at line boundaries, closing
// and reopening whatever is open at each cut.
func cutBlock(blk string, budget int) []string {
	var out []string
	var cur strings.Builder
	var st mdState
	body := 0 // bytes of real content in cur, beyond the reopening prefix
	for _, line := range strings.SplitAfter(blk, "\n") {
		if line == "" {
			continue
		}
		if room := budget - len(st.closing()); len(line) > room {
			line = truncate(line, room)
		}
		if body > 0 && cur.Len()+len(line)+len(st.closing()) > budget {
			cur.WriteString(st.closing())
			out = append(out, cur.String())
			cur.Reset()
			if len(st.reopening())+len(st.closing()) > budget/4 {
				// Absurdly deep nesting: reopening it would crowd out
				// the content, so the rest goes unfolded.
				st.details = nil
			}
			cur.WriteString(st.reopening())
			body = 0
		}
		cur.WriteString(line)
		body += len(line)
		st.advance(line)
	}
	return append(out, cur.String())
}

// truncate shortens a single line that cannot fit any part.
func truncate(line string, n int) string {
	const ell = "…\n"
	if n <= len(ell) {
		return ell
	}
	s := line[:n-len(ell)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + ell
}

// mdState tracks the Markdown structures open after the lines seen so far.
type mdState struct {
	fence     string   // the opening fence line of an open code block
	tableHead []string // header and delimiter rows of the table being read
	details   []string // opening lines of open <details> elements
}

func (s *mdState) clean() bool { return s.fence == "" && len(s.details) == 0 }

func (s *mdState) advance(line string) {
	t := strings.TrimSpace(line)
	if s.fence != "" {
		marker := s.fence[:3]
		if strings.HasPrefix(t, marker) && strings.Trim(t, marker[:1]) == "" {
			s.fence = ""
		}
		return
	}
	if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
		s.fence = t
		s.tableHead = nil
		return
	}
	if strings.HasPrefix(t, "|") {
		switch {
		case s.tableHead == nil:
			s.tableHead = []string{line}
		case len(s.tableHead) == 1 && isDelimiterRow(t):
			s.tableHead = append(s.tableHead, line)
		}
	} else {
		s.tableHead = nil
	}
	// The renderer writes <details> and </details> at the start of their
	// own lines; text inside cells has its < escaped.
	switch {
	case strings.HasPrefix(t, "<details"):
		s.details = append(s.details, t)
	case strings.HasPrefix(t, "</details>") && len(s.details) > 0:
		s.details = s.details[:len(s.details)-1]
	}
}

func isDelimiterRow(t string) bool {
	return strings.Trim(t, "|-: ") == "" && strings.Contains(t, "-")
}

// closing is what ends the open structures at a cut.
func (s *mdState) closing() string {
	var b strings.Builder
	if s.fence != "" {
		b.WriteString(s.fence[:3] + "\n")
	}
	for range s.details {
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// reopening is what starts the next part inside the same structures.
func (s *mdState) reopening() string {
	var b strings.Builder
	for _, d := range s.details {
		b.WriteString(d + "\n\n")
	}
	if s.fence != "" {
		b.WriteString(s.fence + "\n")
	} else if len(s.tableHead) == 2 {
		b.WriteString(s.tableHead[0] + s.tableHead[1])
	}
	return b.String()
}
