package attest

import (
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
