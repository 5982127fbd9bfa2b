package junit

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const pytest = `<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="model-quality" tests="4" failures="1" errors="0" skipped="1">
    <testcase classname="tests.test_model" name="test_auc"/>
    <testcase classname="tests.test_model" name="test_calibration">
      <failure message="ECE 0.09 above 0.05">assert 0.09 &lt;= 0.05
more detail</failure>
    </testcase>
    <testcase classname="tests.test_model" name="test_gpu"><skipped message="no GPU"/></testcase>
    <testcase name="test_schema"/>
  </testsuite>
  <testsuite name="data">
    <testcase name="test_nulls"><error>KeyError: 'age'
Traceback</error></testcase>
  </testsuite>
</testsuites>`

func TestParse(t *testing.T) {
	rep, err := Parse(strings.NewReader(pytest), "r.xml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{
		Suites: map[string]*Suite{
			"model-quality": {Counts: Counts{Tests: 4, Failures: 1, Skipped: 1}, Passed: false,
				FailedCases:  []Case{{Name: "tests.test_model.test_calibration", Message: "ECE 0.09 above 0.05"}},
				SkippedCases: []string{"tests.test_model.test_gpu"}},
			"data": {Counts: Counts{Tests: 1, Errors: 1}, FailedCases: []Case{{Name: "test_nulls", Message: "KeyError: 'age'"}}, SkippedCases: []string{}},
		},
		Total: Counts{Tests: 5, Failures: 1, Errors: 1, Skipped: 1},
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	single := `<testsuite name="data"><testcase name="a"/><testcase name="b"/></testsuite>`
	other, err := Parse(strings.NewReader(single), "s.xml")
	if err != nil {
		t.Fatal(err)
	}
	if !other.Suites["data"].Passed {
		t.Error("passing suite not passed")
	}
	rep.Merge(other)
	if diff := cmp.Diff(Counts{Tests: 3, Errors: 1}, rep.Suites["data"].Counts); diff != "" {
		t.Error(diff)
	}
	if rep.Suites["data"].Passed || rep.Total.Tests != 7 {
		t.Errorf("merged: %+v", rep.Total)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "r.xml: not a JUnit XML report: empty file"},
		{"<testsuite><testcase>", "r.xml: line 1: not a JUnit XML report: unexpected EOF"},
		{"<html/>", "r.xml: not a JUnit XML report: root element is <html>, want <testsuites> or <testsuite>"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in), "r.xml")
		if err == nil || err.Error() != tt.want || !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) = %v, want %s", tt.in, err, tt.want)
		}
	}
}
