package attest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// predicateBase and predicateVersion frame every Slipway predicate type:
// https://slipway.dev/attestation/KIND/v1.
const (
	predicateBase    = "https://slipway.dev/attestation/"
	predicateVersion = "/v1"
)

// PredicateTypeOf returns the predicate type of a ledger record kind
// ("release", "rollback", "monitoring").
func PredicateTypeOf(kind string) string { return predicateBase + kind + predicateVersion }

// Predicate types of the ledger's record kinds other than releases.
var (
	RollbackPredicateType   = PredicateTypeOf("rollback")
	MonitoringPredicateType = PredicateTypeOf("monitoring")
)

// RecordHeader is the part every ledger record's predicate other than a
// release carries: what the record is about and its place in the ledger.
// A kind's predicate embeds it, so its fields sit at the predicate's top
// level beside the kind's own.
type RecordHeader struct {
	Model       ModelRef `json:"model"`
	Environment string   `json:"environment"`
	// Name is the record's name in the ledger (ledger.Place.Name).
	Name string `json:"name"`
	// RecordedAt is when the record was signed, RFC 3339 UTC.
	RecordedAt string `json:"recordedAt"`
	// Previous is the digest of the previous record of the same kind for
	// the same model and environment, empty for the first.
	Previous string `json:"previous"`
	// LedgerPrevious is the digest of the record the ledger listed last
	// when this one was signed, empty for the first.
	LedgerPrevious string `json:"ledgerPrevious"`
}

// RecordStatement is an in-toto v1 Statement of a ledger record other
// than a release. Predicate holds the kind's predicate as signed; Decode
// reads it into the kind's type.
type RecordStatement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`

	// Kind is the kind the predicate type names; Header is the
	// predicate's RecordHeader. Both are filled by ParseRecord.
	Kind   string       `json:"-"`
	Header RecordHeader `json:"-"`
}

// NewSubject returns the subject named name with digest d
// ("sha256:<hex>").
func NewSubject(name, d string) (Subject, error) { return subject(name, d) }

// NewRecordStatement wraps predicate, a kind's predicate type embedding
// RecordHeader, in a v1 statement of the kind's predicate type. A record
// must name at least one subject so cosign verify-blob-attestation has a
// blob to check it against.
func NewRecordStatement(kind string, subjects []Subject, predicate any) (RecordStatement, error) {
	if kind == "" || kind == "release" || strings.Contains(kind, "/") {
		return RecordStatement{}, fmt.Errorf("record kind %q: releases use NewStatement", kind)
	}
	if len(subjects) == 0 {
		return RecordStatement{}, fmt.Errorf("%s record: no subject", kind)
	}
	b, err := json.Marshal(predicate)
	if err != nil {
		return RecordStatement{}, fmt.Errorf("%s predicate: %w", kind, err)
	}
	st := RecordStatement{Type: StatementV1, Subject: subjects, PredicateType: PredicateTypeOf(kind), Predicate: b, Kind: kind}
	if err := json.Unmarshal(b, &st.Header); err != nil {
		return RecordStatement{}, fmt.Errorf("%s predicate header: %w", kind, err)
	}
	return st, nil
}

// Marshal returns the statement's JSON, the DSSE payload.
func (s RecordStatement) Marshal() ([]byte, error) { return json.Marshal(s) }

// Decode reads the predicate into v, the kind's predicate type.
func (s *RecordStatement) Decode(v any) error {
	if err := json.Unmarshal(s.Predicate, v); err != nil {
		return fmt.Errorf("%s predicate: %w", s.Kind, err)
	}
	return nil
}

// ParseRecord decodes the statement of a ledger record other than a
// release and its RecordHeader; errors wrap ErrNotRelease when it is not
// a Slipway record statement, and a release statement is refused (Parse
// reads those).
func ParseRecord(payload []byte) (*RecordStatement, error) {
	var s RecordStatement
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrNotRelease, err)
	}
	if s.Type != StatementV1 && s.Type != StatementV01 {
		return nil, fmt.Errorf("%w: statement type %q", ErrNotRelease, s.Type)
	}
	if !IsRecordType(s.PredicateType) {
		return nil, fmt.Errorf("%w: predicate type %q is no Slipway ledger record", ErrNotRelease, s.PredicateType)
	}
	s.Kind = strings.TrimSuffix(strings.TrimPrefix(s.PredicateType, predicateBase), predicateVersion)
	if err := json.Unmarshal(s.Predicate, &s.Header); err != nil {
		return nil, fmt.Errorf("%w: %s predicate: %v", ErrNotRelease, s.Kind, err)
	}
	return &s, nil
}

// IsRecordType reports whether a predicate type is a Slipway ledger
// record's other than a release.
func IsRecordType(predicateType string) bool {
	kind, ok := strings.CutPrefix(predicateType, predicateBase)
	kind, ok2 := strings.CutSuffix(kind, predicateVersion)
	return ok && ok2 && kind != "" && kind != "release" && !strings.Contains(kind, "/")
}
