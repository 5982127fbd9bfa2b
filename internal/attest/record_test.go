package attest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type rehearsal struct {
	RecordHeader
	Outcome string `json:"outcome"`
}

func TestRecordStatementRoundTrip(t *testing.T) {
	sub, err := NewSubject("releases/staging/m/1.0.0.intoto.json", "sha256:"+strings.Repeat("b", 64))
	if err != nil {
		t.Fatal(err)
	}
	in := rehearsal{RecordHeader: RecordHeader{Model: ModelRef{Name: "m", Version: "1.0.0"}, Environment: "staging", Name: "20261123T120000Z-3",
		RecordedAt: "2026-11-23T12:00:00Z", Previous: "", LedgerPrevious: "sha256:" + strings.Repeat("c", 64)}, Outcome: "succeeded"}
	st, err := NewRecordStatement("rollback", []Subject{sub}, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"predicateType":"https://slipway.dev/attestation/rollback/v1"`) || !strings.Contains(string(b), `"outcome":"succeeded"`) {
		t.Fatalf("payload %s", b)
	}
	got, err := ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "rollback" || got.PredicateType != RollbackPredicateType {
		t.Fatalf("kind %q type %q", got.Kind, got.PredicateType)
	}
	var out rehearsal
	if err := got.Decode(&out); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(in, out); d != "" {
		t.Fatalf("predicate (-want +got):\n%s", d)
	}
	if d := cmp.Diff(in.RecordHeader, got.Header); d != "" {
		t.Fatalf("header (-want +got):\n%s", d)
	}
}

func TestParseRecordRefuses(t *testing.T) {
	for _, payload := range []string{
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slipway.dev/attestation/release/v1","predicate":{}}`,
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://example.com/rollback/v1","predicate":{}}`,
		`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slipway.dev/attestation/rollback/v2","predicate":{}}`,
		`{"_type":"other","predicateType":"https://slipway.dev/attestation/rollback/v1","predicate":{}}`,
		`not json`,
	} {
		if _, err := ParseRecord([]byte(payload)); !errors.Is(err, ErrNotRelease) {
			t.Errorf("ParseRecord(%s) = %v, want ErrNotRelease", payload, err)
		}
	}
	if _, err := NewRecordStatement("release", []Subject{{Name: "x"}}, struct{}{}); err == nil {
		t.Error("NewRecordStatement made a release")
	}
	if _, err := NewRecordStatement("rollback", nil, struct{}{}); err == nil {
		t.Error("NewRecordStatement made a record without subject")
	}
}
