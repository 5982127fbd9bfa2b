package checkresult

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRoundTrip decodes a check result `slipway check` wrote (the check's
// golden file) and encodes it again: the bytes must not change, so the
// document's types hold every field the producer writes.
func TestRoundTrip(t *testing.T) {
	for _, path := range []string{
		"../check/testdata/rejected.json",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := Encode(&got, r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("re-encoded document differs (-read +written):\n%s", diff)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"verdict":     `{"verdict":"maybe","units":[]}`,
		"unit model":  `{"verdict":"pass","units":[{"environment":"e"}]}`,
		"not json":    `{`,
		"wrong field": `{"verdict":"pass","units":"x"}`,
	} {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("%s: decoded %s", name, doc)
		}
	}
}

func TestReadMissing(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), File))
	if !errors.Is(err, ErrNoCheck) {
		t.Fatalf("got %v, want ErrNoCheck", err)
	}
}

func TestDenials(t *testing.T) {
	tests := []struct {
		name string
		unit Unit
		want []string
	}{
		{"pass", Unit{Verdict: Pass, Results: []Finding{{Rule: "a", Outcome: Pass}}}, nil},
		{"deny", Unit{Verdict: Deny, Results: []Finding{{Rule: "a", Outcome: Deny, Message: "bad"}, {Rule: "b", Outcome: Waived}}}, []string{"a: bad"}},
		{"deny without finding", Unit{Verdict: Deny}, []string{"verdict is deny"}},
		// A warning is no denial, approvals pending included: a release
		// judges in the release phase, where release.approvals denies.
		{"approvals pending", Unit{Verdict: Warn, Results: []Finding{{Rule: "release.approvals_pending", Outcome: Warn, Message: "1 of 2"}}}, nil},
		{"other warning", Unit{Verdict: Warn, Results: []Finding{{Rule: "x", Outcome: Warn}}}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.unit.Denials()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestOutcomeVerdict(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		s    Severity
		want Outcome
	}{
		{Deny, SeverityDeny, Deny},
		{InsufficientEvidence, SeverityDeny, Deny},
		{InsufficientEvidence, SeverityWarn, Warn},
		{Warn, SeverityWarn, Warn},
		{Waived, SeverityDeny, Pass},
		{Pass, SeverityDeny, Pass},
	} {
		if got := tc.o.Verdict(tc.s); got != tc.want {
			t.Errorf("%s/%s: verdict %s, want %s", tc.o, tc.s, got, tc.want)
		}
	}
	u := Unit{Results: []Finding{{Rule: "fairness.equalized_odds", Severity: SeverityDeny, Outcome: InsufficientEvidence, Message: "interval crosses"}}}
	if diff := cmp.Diff([]string{"fairness.equalized_odds: insufficient evidence: interval crosses"}, u.Denials()); diff != "" {
		t.Errorf("denials (-want +got):\n%s", diff)
	}
	if got := u.Count(); got.Insufficient != 1 {
		t.Errorf("count %+v, want one insufficient", got)
	}
}

// TestEncodeMatchesJSON keeps Encode, which encodes unit by unit, byte for
// byte equal to encoding/json's indented encoding of the whole document,
// with no units, one and several (a string field quoting the units
// field must not be taken for it).
func TestEncodeMatchesJSON(t *testing.T) {
	golden, err := os.ReadFile("../check/testdata/rejected.json")
	if err != nil {
		t.Fatal(err)
	}
	full, err := Decode(golden)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Units) < 2 {
		t.Fatalf("golden has %d units, want several", len(full.Units))
	}
	tests := []struct {
		name  string
		units []Unit
		base  string
	}{
		{"none", nil, ""},
		{"empty", []Unit{}, ""},
		{"one", full.Units[:1], ""},
		{"all", full.Units, `main","units":null,"x":"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := *full
			r.Units, r.Base = tt.units, tt.base
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(&r); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := Encode(&got, &r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("Encode differs from json's indented encoding (-json +Encode):\n%s", diff)
			}
		})
	}
}

// TestVerdict folds findings as a unit's verdict does: one blocking
// finding denies, insufficient evidence counts by its severity.
func TestVerdict(t *testing.T) {
	f := func(o Outcome, s Severity) Finding { return Finding{Outcome: o, Severity: s} }
	tests := []struct {
		name     string
		findings []Finding
		want     Outcome
	}{
		{"none", nil, Pass},
		{"pass and not applicable", []Finding{f(Pass, SeverityDeny), f(NotApplicable, SeverityDeny)}, Pass},
		{"waived denial", []Finding{f(Waived, SeverityDeny)}, Pass},
		{"warn", []Finding{f(Pass, SeverityDeny), f(Warn, SeverityWarn)}, Warn},
		{"insufficient where it warns", []Finding{f(InsufficientEvidence, SeverityWarn)}, Warn},
		{"insufficient where it denies", []Finding{f(Warn, SeverityWarn), f(InsufficientEvidence, SeverityDeny)}, Deny},
		{"deny after warn", []Finding{f(Warn, SeverityWarn), f(Deny, SeverityDeny), f(Pass, SeverityDeny)}, Deny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verdict(tt.findings); got != tt.want {
				t.Errorf("Verdict = %s, want %s", got, tt.want)
			}
		})
	}
	for _, tt := range []struct{ a, b, want Outcome }{{Pass, Warn, Warn}, {Deny, Warn, Deny}, {Warn, Deny, Deny}, {Pass, Pass, Pass}} {
		if got := Worse(tt.a, tt.b); got != tt.want {
			t.Errorf("Worse(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestWaiverExpiredAt: a waiver holds through its expiry day, UTC, and an
// expiry that is no date holds for no day.
func TestWaiverExpiredAt(t *testing.T) {
	day := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	for _, tc := range []struct {
		expires string
		now     time.Time
		want    bool
	}{
		{"2026-12-03", day("2026-12-02T12:00:00Z"), false},
		{"2026-12-03", day("2026-12-03T23:59:59Z"), false},
		{"2026-12-03", day("2026-12-04T00:00:00Z"), true},
		{"2026-12-03", day("2027-01-01T00:00:00Z"), true},
		{"03/12/2026", day("2020-01-01T00:00:00Z"), true},
		{"", day("2020-01-01T00:00:00Z"), true},
	} {
		if got := WaiverExpiredAt(tc.expires, tc.now); got != tc.want {
			t.Errorf("WaiverExpiredAt(%q, %s) = %v, want %v", tc.expires, tc.now.Format(time.RFC3339), got, tc.want)
		}
	}
}
