package attest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	artDigest  = "sha256:" + strings.Repeat("a", 64)
	planDigest = "sha256:" + strings.Repeat("b", 64)
)

func TestStatementRoundTrip(t *testing.T) {
	r := Release{
		Model:       ModelRef{Name: "credit-default", Version: "1.4.0"},
		Environment: "staging",
		Decision:    DecisionPass,
		Artifact:    Artifact{URI: "s3://models/credit-default/1.4.0/model.onnx", Digest: artDigest},
		Stacks:      []Stack{{ID: "staging/credit-default", PlanFile: ".slipway/plans/staging/credit-default.tfplan", PlanSHA256: planDigest}},
	}
	st, err := NewStatement(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []Subject{
		{Name: "model.onnx", Digest: map[string]string{"sha256": strings.Repeat("a", 64)}},
		{Name: ".slipway/plans/staging/credit-default.tfplan", Digest: map[string]string{"sha256": strings.Repeat("b", 64)}},
	}
	if d := cmp.Diff(want, st.Subject); d != "" {
		t.Fatalf("subjects (-want +got):\n%s", d)
	}
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(st.Predicate.Model, got.Predicate.Model); d != "" {
		t.Fatal(d)
	}
	if got.SubjectDigest("model.onnx") != artDigest || got.SubjectDigest(r.ArtifactSubject()) != artDigest {
		t.Fatalf("artifact digest %q", got.SubjectDigest("model.onnx"))
	}
}

func TestNewStatementBadDigest(t *testing.T) {
	if _, err := NewStatement(Release{Artifact: Artifact{URI: "x", Digest: "md5:00"}}); err == nil {
		t.Fatal("want an error for a non-sha256 artifact digest")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, payload string
		ok            bool
	}{
		{"v1", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"` + PredicateType + `","subject":[],"predicate":{}}`, true},
		{"cosign v0.1", `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"` + PredicateType + `","subject":[],"predicate":{}}`, true},
		{"other predicate", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1"}`, false},
		{"not a statement", `{"_type":"x"}`, false},
		{"not json", `{`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.payload))
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrNotRelease) {
				t.Fatalf("err %v does not wrap ErrNotRelease", err)
			}
		})
	}
}

func TestParseSummary(t *testing.T) {
	auc := 0.9
	w := Waiver{Rule: "data.pii_feature", Model: "m", Environment: "*", Expires: "2027-03-31", Ticket: "T-1"}
	r := Release{
		Model: ModelRef{Name: "m", Version: "1.0.0"}, Revision: 2, Environment: "staging", Decision: DecisionPass, Verdict: "warn",
		Artifact: Artifact{URI: "s3://x/model.onnx", Digest: artDigest},
		Spec:     Spec{Platform: "p", Digest: planDigest, Model: []byte(`{"name":"m"}`)},
		Evidence: &Evidence{Path: "e.json", SHA256: planDigest, Inputs: []Input{{Path: "p.csv", SHA256: planDigest}}, Headline: map[string]*float64{"auc": &auc}},
		Stacks:   []Stack{{ID: "staging/m", PlanFile: "p.tfplan", PlanSHA256: planDigest}},
		Results:  []Result{{Rule: "data.pii_feature", Severity: "deny", Outcome: "waived", Message: "pii", Controls: []Control{{Framework: "F", ID: "1"}}, Waiver: &w}},
		Waivers:  []Waiver{w}, Approvals: []Approval{{User: "a", State: "APPROVED"}},
		Source: Source{Commit: "c"}, Check: CheckRef{Verdict: "warn"}, Slipway: Tool{Version: "v"}, ReleasedAt: "2026-11-23T12:00:00Z", Previous: planDigest,
	}
	st, _ := NewStatement(r)
	b, _ := st.Marshal()
	got, err := ParseSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	// Everything but the parts verification does not read.
	want := r
	want.Evidence = &Evidence{Headline: r.Evidence.Headline}
	want.Results = []Result{{Rule: "data.pii_feature", Severity: "deny", Outcome: "waived", Message: "pii"}}
	if d := cmp.Diff(want, got.Predicate); d != "" {
		t.Fatalf("predicate (-want +got):\n%s", d)
	}
	if d := cmp.Diff(st.Subject, got.Subject); d != "" {
		t.Fatal(d)
	}
	if _, err := ParseSummary([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"x","predicate":{"model":"str"}}`)); !errors.Is(err, ErrNotRelease) {
		t.Fatalf("other predicate: %v", err)
	}
}

// TestStatementStripsRemoteCredentials: a remote URL with credentials is
// signed without them, whatever the caller passed.
func TestStatementStripsRemoteCredentials(t *testing.T) {
	r := Release{
		Artifact: Artifact{URI: "s3://models/m/1/model.onnx", Digest: artDigest},
		Source:   Source{Repository: "https://x:TOKEN-77a1@host.example/acme/repo.git?access_token=T2-9f0e", Commit: strings.Repeat("c", 40)},
	}
	st, err := NewStatement(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"TOKEN-77a1", "T2-9f0e"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("signed statement holds %q: %s", secret, b)
		}
	}
	if got := st.Predicate.Source.Repository; got != "https://host.example/acme/repo.git" {
		t.Errorf("repository = %q", got)
	}
}

// TestDecodeKeepsEncodingJSON: statements decode as encoding/json decodes
// them, so a record verifies (or fails) as it did before the faster
// decoder: invalid JSON anywhere, even inside a member the summary skips,
// is refused; names match case-insensitively; the last of duplicate names
// wins; invalid UTF-8 is replaced.
func TestDecodeKeepsEncodingJSON(t *testing.T) {
	head := `{"_type":"https://in-toto.io/Statement/v1","predicateType":"` + PredicateType + `","subject":[],"predicate":`
	tests := []struct {
		name, payload string
		ok            bool
	}{
		{"plain", head + `{"model":{"name":"m","version":"1"}}}`, true},
		{"bad json in skipped controls", head + `{"model":{"name":"m"},"results":[{"rule":"r","controls":[{"id":"1",}]}]}}`, false},
		{"bad json in skipped evidence", head + `{"evidence":{"path":tru,"headline":{}}}}`, false},
		{"trailing data", head + `{}} {}`, false},
		{"truncated", head + `{"model":{"name":"m"`, false},
		{"wrong type", head + `{"revision":"2"}}`, false},
		{"case-insensitive names", head + `{"MODEL":{"Name":"m","VERSION":"1"},"Environment":"staging"}}`, true},
		{"duplicate names", head + `{"model":{"name":"a","name":"b"},"environment":"x","environment":"y"}}`, true},
		{"invalid utf-8", head + "{\"model\":{\"name\":\"m\xff\"}}}", true},
		{"null members", head + `{"model":null,"results":null,"evidence":null,"stacks":[null]}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want Statement
			wantErr := json.Unmarshal([]byte(tt.payload), &want)
			if (wantErr == nil) != tt.ok {
				t.Fatalf("encoding/json: %v, want ok=%v", wantErr, tt.ok)
			}
			got, err := Parse([]byte(tt.payload))
			if (err == nil) != tt.ok {
				t.Fatalf("Parse: %v, want ok=%v", err, tt.ok)
			}
			sum, serr := ParseSummary([]byte(tt.payload))
			if (serr == nil) != tt.ok {
				t.Fatalf("ParseSummary: %v, want ok=%v", serr, tt.ok)
			}
			if !tt.ok {
				if !errors.Is(err, ErrNotRelease) || !errors.Is(serr, ErrNotRelease) {
					t.Fatalf("errors %v, %v do not wrap ErrNotRelease", err, serr)
				}
				return
			}
			if d := cmp.Diff(want, *got); d != "" {
				t.Errorf("Parse (-encoding/json +got):\n%s", d)
			}
			if sum.Predicate.Model != want.Predicate.Model || sum.Predicate.Environment != want.Predicate.Environment {
				t.Errorf("ParseSummary: %+v in %s, encoding/json %+v in %s", sum.Predicate.Model, sum.Predicate.Environment, want.Predicate.Model, want.Predicate.Environment)
			}
		})
	}
}
