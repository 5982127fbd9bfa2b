package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
)

// SignatureSuffix ends the file a signed report's signature is written to,
// beside the report.
const SignatureSuffix = ".sig"

// ReportPredicateType is the predicate type of a report signature: an
// in-toto statement whose subject is the report file by sha256, signed
// in a DSSE envelope like a release record.
var ReportPredicateType = attest.PredicateTypeOf("report")

// ErrReportSignature means a report does not match its signature.
var ErrReportSignature = errors.New("report signature does not verify")

// reportStatement is an in-toto statement like attest's, with the
// report's own predicate: a report is signed, never recorded in the ledger.
type reportStatement struct {
	Type          string           `json:"_type"`
	Subject       []attest.Subject `json:"subject"`
	PredicateType string           `json:"predicateType"`
	Predicate     reportPredicate  `json:"predicate"`
}

type reportPredicate struct {
	Platform    string `json:"platform"`
	GeneratedAt string `json:"generatedAt"`
	LedgerHead  string `json:"ledgerHead,omitempty"`
}

// Sign returns the DSSE signature of the report bytes data, to be written
// beside the report file named name.
func Sign(ctx context.Context, s *sign.Signer, r *Report, name string, data []byte) ([]byte, error) {
	sub, err := attest.NewSubject(filepath.Base(name), digest.Bytes(data))
	if err != nil {
		return nil, err
	}
	st := reportStatement{
		Type:          attest.StatementV1,
		Subject:       []attest.Subject{sub},
		PredicateType: ReportPredicateType,
		Predicate:     reportPredicate{Platform: r.Platform, GeneratedAt: r.GeneratedAt, LedgerHead: r.Ledger.Head},
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return s.Sign(ctx, payload)
}

// SignatureCheck is what VerifySignature found.
type SignatureCheck struct {
	Report string `json:"report"`
	SHA256 string `json:"sha256"`
	// KeyID names the trusted key that signed it, Fingerprint its SHA-256.
	KeyID       string `json:"keyId"`
	Fingerprint string `json:"fingerprint"`
	LedgerHead  string `json:"ledgerHead,omitempty"`
	GeneratedAt string `json:"generatedAt,omitempty"`
}

// VerifySignature checks the report file against the signature beside it
// (file + SignatureSuffix): signed by a trusted key, and the subject is
// this file's very bytes. The error wraps ErrReportSignature when the
// signature or the digest does not hold.
func VerifySignature(ctx context.Context, file string, keys []*sign.PublicKey) (*SignatureCheck, error) {
	data, err := safefile.ReadFile(file, safefile.Record)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	sigFile := file + SignatureSuffix
	env, err := safefile.ReadFile(sigFile, safefile.Record)
	if err != nil {
		return nil, fmt.Errorf("report signature: %w", err)
	}
	e, err := sign.ParseEnvelope(env)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrReportSignature, sigFile, err)
	}
	k, err := sign.Verify(ctx, e, keys)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrReportSignature, sigFile, err)
	}
	var st reportStatement
	if err := json.Unmarshal(e.Payload, &st); err != nil || st.PredicateType != ReportPredicateType || len(st.Subject) != 1 {
		return nil, fmt.Errorf("%w: %s is not a Slipway report signature", ErrReportSignature, sigFile)
	}
	d := digest.Bytes(data)
	if want := digest.Prefix + st.Subject[0].Digest["sha256"]; want != d {
		return nil, fmt.Errorf("%w: %s is %s, the signature is for %s", ErrReportSignature, file, d, want)
	}
	return &SignatureCheck{Report: file, SHA256: d, KeyID: k.ID, Fingerprint: k.Fingerprint,
		LedgerHead: st.Predicate.LedgerHead, GeneratedAt: st.Predicate.GeneratedAt}, nil
}
