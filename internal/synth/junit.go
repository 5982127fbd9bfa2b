package synth

import (
	"fmt"
	"io"
	"strings"
)

// Suite is a JUnit test suite to write.
type Suite struct {
	Name    string
	Cases   []string
	Skipped []string // names among Cases that were skipped
	Failed  map[string]string
}

// WriteJUnit writes suites as a JUnit XML report in the layout pytest and
// most CI tools produce.
func WriteJUnit(w io.Writer, suites []Suite) error {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites>\n")
	for _, s := range suites {
		skipped := map[string]bool{}
		for _, n := range s.Skipped {
			skipped[n] = true
		}
		fmt.Fprintf(&b, "  <testsuite name=%q tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">\n", s.Name, len(s.Cases), len(s.Failed), len(s.Skipped), 0.125*float64(len(s.Cases)))
		for i, c := range s.Cases {
			fmt.Fprintf(&b, "    <testcase classname=%q name=%q time=\"%.3f\"", s.Name, c, 0.05+0.01*float64(i))
			switch {
			case skipped[c]:
				b.WriteString(">\n      <skipped message=\"not applicable\"/>\n    </testcase>\n")
			case s.Failed[c] != "":
				fmt.Fprintf(&b, ">\n      <failure message=%q>AssertionError</failure>\n    </testcase>\n", s.Failed[c])
			default:
				b.WriteString("/>\n")
			}
		}
		b.WriteString("  </testsuite>\n")
	}
	b.WriteString("</testsuites>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
