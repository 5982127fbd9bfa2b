// Package junit reads JUnit XML test reports (as written by pytest,
// Maven Surefire, go-junit-report and most CI tools) and counts tests,
// failures, errors and skips per suite from the test cases themselves.
package junit

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/slipway-ml/slipway/internal/safefile"
)

// ErrFormat is wrapped by errors about files that are not JUnit XML.
var ErrFormat = errors.New("not a JUnit XML report")

// Counts are test outcomes.
type Counts struct {
	Tests    int `json:"tests"`
	Failures int `json:"failures"`
	Errors   int `json:"errors"`
	Skipped  int `json:"skipped"`
}

// Case is a failed or erroring test case.
type Case struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Suite is one named test suite, merged over every report that has it.
type Suite struct {
	Counts
	// Passed is true when the suite ran tests and none failed or errored.
	Passed       bool     `json:"passed"`
	FailedCases  []Case   `json:"failed_cases"`
	SkippedCases []string `json:"skipped_cases"`
}

// Report is the suites of one or more report files.
type Report struct {
	Suites map[string]*Suite `json:"suites"`
	Total  Counts            `json:"total"`
}

// xml shapes: <testsuites> holds <testsuite>s, which hold <testcase>s
// and sometimes nested <testsuite>s.
type xmlSuite struct {
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Cases    []xmlCase  `xml:"testcase"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Failures  []xmlResult `xml:"failure"`
	Errors    []xmlResult `xml:"error"`
	Skipped   *xmlResult  `xml:"skipped"`
}

type xmlResult struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// ParseFile reads one report file; name is how errors name it.
func ParseFile(path, name string) (*Report, error) {
	// Only a regular file, and only so much of it: a FIFO would block
	// and /dev/zero never end.
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(safefile.LimitReader(f, "", safefile.Record), name)
}

// Parse reads one report.
func Parse(r io.Reader, name string) (*Report, error) {
	dec := xml.NewDecoder(r)
	var root struct {
		XMLName xml.Name
		xmlSuite
	}
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, safefile.ErrTooLarge) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: line %d: %w: %s", name, se.Line, ErrFormat, se.Msg)
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w: empty file", name, ErrFormat)
		}
		return nil, fmt.Errorf("%s: %w: %v", name, ErrFormat, err)
	}
	rep := &Report{Suites: map[string]*Suite{}}
	switch root.XMLName.Local {
	case "testsuites":
		for _, s := range root.Suites {
			rep.addSuite(s)
		}
	case "testsuite":
		rep.addSuite(root.xmlSuite)
	default:
		return nil, fmt.Errorf("%s: %w: root element is <%s>, want <testsuites> or <testsuite>", name, ErrFormat, root.XMLName.Local)
	}
	rep.finish()
	return rep, nil
}

func (r *Report) addSuite(x xmlSuite) {
	for _, nested := range x.Suites {
		r.addSuite(nested)
	}
	if len(x.Cases) == 0 && len(x.Suites) > 0 {
		return
	}
	s := r.Suites[x.Name]
	if s == nil {
		s = &Suite{FailedCases: []Case{}, SkippedCases: []string{}}
		r.Suites[x.Name] = s
	}
	if len(x.Cases) == 0 {
		// A suite that lists no cases only has its counters to go by.
		s.Tests += x.Tests
		s.Failures += x.Failures
		s.Errors += x.Errors
		s.Skipped += x.Skipped
		return
	}
	for _, c := range x.Cases {
		name := c.Name
		if c.Classname != "" {
			name = c.Classname + "." + c.Name
		}
		s.Tests++
		switch {
		case len(c.Errors) > 0:
			s.Errors++
			s.FailedCases = append(s.FailedCases, Case{Name: name, Message: message(c.Errors[0])})
		case len(c.Failures) > 0:
			s.Failures++
			s.FailedCases = append(s.FailedCases, Case{Name: name, Message: message(c.Failures[0])})
		case c.Skipped != nil:
			s.Skipped++
			s.SkippedCases = append(s.SkippedCases, name)
		}
	}
}

// message is the failure's message attribute, or the first line of its
// text when there is none.
func message(x xmlResult) string {
	if m := strings.TrimSpace(x.Message); m != "" {
		return m
	}
	t := strings.TrimSpace(x.Text)
	if i := strings.IndexByte(t, '\n'); i >= 0 {
		t = t[:i]
	}
	return t
}

// Merge adds another report's suites to r.
func (r *Report) Merge(o *Report) {
	for name, s := range o.Suites {
		t := r.Suites[name]
		if t == nil {
			cp := *s
			r.Suites[name] = &cp
			continue
		}
		t.Tests += s.Tests
		t.Failures += s.Failures
		t.Errors += s.Errors
		t.Skipped += s.Skipped
		t.FailedCases = append(t.FailedCases, s.FailedCases...)
		t.SkippedCases = append(t.SkippedCases, s.SkippedCases...)
	}
	r.finish()
}

func (r *Report) finish() {
	r.Total = Counts{}
	names := make([]string, 0, len(r.Suites))
	for n := range r.Suites {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.Suites[n]
		s.Passed = s.Tests > s.Skipped && s.Failures == 0 && s.Errors == 0
		r.Total.Tests += s.Tests
		r.Total.Failures += s.Failures
		r.Total.Errors += s.Errors
		r.Total.Skipped += s.Skipped
	}
}

// New returns an empty report to merge others into.
func New() *Report { return &Report{Suites: map[string]*Suite{}} }
