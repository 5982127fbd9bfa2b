// Package verify checks the release ledger and records against the keys
// Slipway trusts: where those keys come from (TrustRoot), every record's
// signature, chain and content (Ledger), and what the verified ledger says
// to whoever judges a new change (PreviousRelease, AcceptedRelease,
// LedgerState). Both the check, which judges, and the release, which signs
// what the check passed, read the verified ledger through it, so neither
// imports the other for it.
package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slipway-ml/slipway/internal/attest"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
)

// Options say what to verify.
type Options struct {
	// Root is the platform repository.
	Root string
	Keys []*sign.PublicKey
	// Environment and Model limit the records checked; the ledger's own
	// integrity is always checked whole.
	Environment, Model string
	// Artifact is a model file to compare with the newest release of its
	// model in each environment.
	Artifact string
	Now      time.Time
	// Trust says where the keys come from when Keys is empty.
	Trust TrustRoot
	// Repair adopts or moves aside unlisted records before verifying, as
	// slipway verify --repair asks.
	Repair bool
	// Head is a ledger head kept outside the repository ("sha256:…", the
	// head a release printed): the index must still hold that line.
	Head string
	// WholeNewest decodes the newest release record of each model in
	// each environment in full (RecordReport.Whole) while verifying it,
	// instead of only what verification reads: the audit report shows
	// those whole, and reading them again cost as much as verifying them.
	WholeNewest bool
}

// trustedKeys fills in o.Keys from o.Trust and says where they came from.
func (o *Options) trustedKeys(ctx context.Context) (string, error) {
	if len(o.Keys) > 0 {
		return "", nil
	}
	k, err := o.Trust.Resolve(ctx)
	if err != nil {
		return "", err
	}
	if len(k.Keys) == 0 {
		return "", fmt.Errorf("%w: pass --key, %s or --base, or add signing.trustedKeys to the platform", ErrNoKeys, TrustedKeysEnv)
	}
	o.Keys = k.Keys
	return k.From, nil
}

// Report is the outcome of a verification.
type Report struct {
	OK bool `json:"ok"`
	// Head is the digest of the ledger's last index line.
	Head string `json:"head,omitempty"`
	// Repaired lists what --repair did with unlisted records.
	Repaired []ledger.Repair `json:"repaired,omitempty"`
	// KeysFrom says where the trusted keys came from.
	KeysFrom string         `json:"keysFrom,omitempty"`
	Records  []RecordReport `json:"records"`
	// Problems not tied to one record in scope: damage to the index
	// or to records the scope does not include.
	Problems []string `json:"problems,omitempty"`

	// indexDamage lists the findings against the index itself, wherever
	// they are reported: they put every record's place in doubt.
	indexDamage []string
}

// RecordReport is the verdict on one release record.
type RecordReport struct {
	Path        string `json:"path"`
	Seq         int    `json:"seq,omitempty"`
	Environment string `json:"environment"`
	Model       string `json:"model"`
	Version     string `json:"version"`
	Revision    int    `json:"revision,omitempty"`
	OK          bool   `json:"ok"`
	// KeyID is the trusted key that verified the signature.
	KeyID      string   `json:"keyId,omitempty"`
	ReleasedAt string   `json:"releasedAt,omitempty"`
	Decision   string   `json:"decision,omitempty"`
	Problems   []string `json:"problems,omitempty"`
	Notes      []string `json:"notes,omitempty"`

	// Kind is the record's kind, omitted for releases; Name is the name
	// of a record of another kind.
	Kind ledger.RecordKind `json:"kind,omitempty"`
	Name string            `json:"name,omitempty"`

	statement *attest.Statement
	// whole says statement was decoded in full (attest.Parse).
	whole bool
	// record is the statement of a record of another kind.
	record *attest.RecordStatement
	// digest is the record file's digest as the index lists it.
	digest string
}

// IsRelease reports whether the record is a release record.
func (r RecordReport) IsRelease() bool { return r.Kind == "" || r.Kind == ledger.Release }

// LedgerRecord is the statement of a record of a kind other than a
// release that verified (rollback, monitoring); nil for releases and for
// records that did not verify. Decode its predicate with Decode.
func (r RecordReport) LedgerRecord() *attest.RecordStatement {
	if !r.OK {
		return nil
	}
	return r.record
}

// Statement is the statement of a record that verified, as verification
// decoded it (attest.ParseSummary: everything but the evidence beyond its
// headline metrics and the results' controls and waivers); nil when the record
// did not verify. The audit report builds its history from it instead of
// reading every record again.
func (r RecordReport) Statement() *attest.Statement {
	if !r.OK {
		return nil
	}
	return r.statement
}

// Whole is the statement of a record that verified, decoded in full, when
// verification was asked to (Options.WholeNewest) and the record is
// the newest of its model in its environment; nil otherwise.
func (r RecordReport) Whole() *attest.Statement {
	if !r.whole {
		return nil
	}
	return r.Statement()
}

// verified is what the signature check learnt about a record.
type verified struct {
	st    *attest.Statement
	whole bool
	rec   *attest.RecordStatement
	keyID string
}

// checker verifies records and remembers their statements for the
// content checks that follow.
type checker struct {
	keys []*sign.PublicKey
	// whole are the paths of the records to decode in full.
	whole map[string]bool
	mu    sync.Mutex
	seen  map[string]verified
}

func (c *checker) open(ctx context.Context, envelope []byte, whole bool) (verified, error) {
	e, err := sign.ParseEnvelope(envelope)
	if err != nil {
		return verified{}, err
	}
	k, err := sign.Verify(ctx, e, c.keys)
	if err != nil {
		var verr *sign.VerifyError
		if errors.As(err, &verr) && verr.Untrusted {
			return verified{}, fmt.Errorf("%w (key id %s)", ledger.ErrUntrusted, strings.Join(verr.KeyIDs, ", "))
		}
		return verified{}, err
	}
	if whole {
		// A statement Parse refuses but ParseSummary reads (a skipped
		// part malformed) verifies as it would otherwise; whoever wants
		// it whole reads it again and meets the error.
		if st, err := attest.Parse(e.Payload); err == nil {
			return verified{st: st, whole: true, keyID: k.ID}, nil
		}
	}
	st, err := attest.ParseSummary(e.Payload)
	if err != nil {
		// Not a release: another kind of ledger record, or the release
		// error stands.
		if rec, rerr := attest.ParseRecord(e.Payload); rerr == nil {
			return verified{rec: rec, keyID: k.ID}, nil
		}
		return verified{}, err
	}
	return verified{st: st, keyID: k.ID}, nil
}

func (c *checker) check(ctx context.Context, rel string, envelope []byte) (ledger.Signed, error) {
	v, err := c.open(ctx, envelope, c.whole[rel])
	if err != nil {
		return ledger.Signed{}, err
	}
	c.mu.Lock()
	c.seen[rel] = v
	c.mu.Unlock()
	if v.rec != nil {
		h := v.rec.Header
		return ledger.Signed{Kind: ledger.RecordKind(v.rec.Kind), Name: h.Name, Environment: h.Environment, Model: h.Model.Name, Version: h.Model.Version,
			Previous: h.Previous, LedgerPrevious: h.LedgerPrevious, HasLedgerPrevious: true}, nil
	}
	p := v.st.Predicate
	s := ledger.Signed{Environment: p.Environment, Model: p.Model.Name, Version: p.Model.Version, Revision: p.Revision, Previous: p.Previous}
	if p.LedgerPrevious != nil {
		s.LedgerPrevious, s.HasLedgerPrevious = *p.LedgerPrevious, true
	}
	return s, nil
}

// Ledger checks the whole ledger and every record in scope: signature by
// a trusted key, predicate type, the chains, the decision, subjects, saved
// plan files still at hand, waivers, and the artifact when given.
func Ledger(ctx context.Context, o Options) (*Report, error) {
	from, err := o.trustedKeys(ctx)
	if err != nil {
		return nil, err
	}
	c := &checker{keys: o.Keys, seen: map[string]verified{}}
	if o.WholeNewest {
		if c.whole, err = newestReleases(o.Root); err != nil {
			return nil, err
		}
	}
	var repaired []ledger.Repair
	if o.Repair {
		if repaired, err = ledger.Open(o.Root).Repair(ctx, c.check, o.Now); err != nil {
			return nil, err
		}
	}
	lrep, err := ledger.Open(o.Root).Verify(ctx, c.check)
	if err != nil {
		return nil, err
	}
	rep := &Report{Head: lrep.Head, KeysFrom: from, Repaired: repaired, Records: []RecordReport{}}
	inScope := func(env, model string) bool {
		return (o.Environment == "" || env == o.Environment) && (o.Model == "" || model == o.Model)
	}
	byPath := map[string]int{}
	for _, r := range lrep.Records {
		if !inScope(r.Environment, r.Model) {
			continue
		}
		rr := RecordReport{Path: r.Path, Seq: r.Seq, Kind: r.Kind, Name: r.Name, Environment: r.Environment, Model: r.Model, Version: r.Version, Revision: r.Revision, digest: r.Record}
		if v, ok := c.seen[r.Path]; ok && r.OK {
			rr.KeyID = v.keyID
			rr.statement, rr.whole, rr.record = v.st, v.whole, v.rec
		}
		byPath[r.Path] = len(rep.Records)
		rep.Records = append(rep.Records, rr)
	}
	if f := lrep.CheckHead(o.Head); f != nil {
		lrep.Findings = append(lrep.Findings, *f)
	}
	for _, f := range lrep.Findings {
		if f.Index || f.Seq == 0 {
			rep.indexDamage = append(rep.indexDamage, f.String())
		}
		if i, ok := byPath[f.Path]; ok {
			rep.Records[i].Problems = append(rep.Records[i].Problems, f.Kind+": "+f.Message)
			continue
		}
		if !f.Index && f.Seq != 0 {
			// A record out of scope whose own bytes are the problem
			// stays out of this report; damage to the index does not.
			if env, model, ok := splitRecordPath(f.Path); ok && !inScope(env, model) {
				continue
			}
		}
		rep.Problems = append(rep.Problems, f.String())
	}
	blobs := map[string]error{}
	for i := range rep.Records {
		r := &rep.Records[i]
		if r.statement != nil {
			checkContent(r, o.Now)
			checkBundle(ledger.Open(o.Root), r, blobs)
		}
		if r.record != nil {
			checkRecordContent(r)
		}
	}
	if o.Artifact != "" {
		if err := checkArtifact(o.Artifact, rep.Records); err != nil {
			return nil, err
		}
		if len(rep.Records) == 0 {
			rep.Problems = append(rep.Problems, "no release record in scope to compare the artifact with")
		}
	}
	rep.finish()
	return rep, nil
}

// newestReleases are the paths of the last release record the index
// lists for each model in each environment.
func newestReleases(root string) (map[string]bool, error) {
	entries, err := ledger.Open(root).Entries()
	if err != nil {
		return nil, err
	}
	last := map[[2]string]string{}
	for _, e := range entries {
		if e.IsRelease() {
			last[[2]string{e.Environment, e.Model}] = e.Path
		}
	}
	out := make(map[string]bool, len(last))
	for _, p := range last {
		out[p] = true
	}
	return out, nil
}

func (rep *Report) finish() {
	rep.OK = len(rep.Problems) == 0
	for i := range rep.Records {
		r := &rep.Records[i]
		r.OK = len(r.Problems) == 0 && (r.statement != nil || r.record != nil)
		if r.statement == nil && r.record == nil && len(r.Problems) == 0 {
			r.Problems = append(r.Problems, "record could not be verified")
		}
		if !r.OK {
			rep.OK = false
		}
	}
}

func splitRecordPath(rel string) (env, model string, ok bool) {
	parts := strings.Split(rel, "/")
	// releases/ENV/MODEL/VERSION.intoto.json, or
	// releases/ENV/MODEL/KIND/NAME.intoto.json for other kinds.
	if (len(parts) != 4 && len(parts) != 5) || parts[0] != ledger.Dir {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// checkContent checks what a valid signature cannot: that the record says
// what Slipway signs. It judges the record alone, never the work dir: a
// plan made after the release is the next release's business, and
// comparing a plan with its pin belongs to apply, which runs it.
func checkContent(r *RecordReport, now time.Time) {
	st := r.statement
	p := st.Predicate
	r.ReleasedAt, r.Decision = p.ReleasedAt, p.Decision
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	if p.Decision != attest.DecisionPass {
		problem("decision: the recorded decision is %q, not %q", p.Decision, attest.DecisionPass)
	}
	for _, res := range p.Results {
		if res.Outcome == "deny" {
			problem("decision: policy %s denied (%s)", res.Rule, res.Message)
		}
	}
	if !hasSubject(st, p.Artifact.Digest) {
		problem("subject: no subject carries the artifact digest %s", p.Artifact.Digest)
	}
	for _, s := range p.Stacks {
		// cosign attest-blob names only the artifact as subject, so a plan
		// may lack a subject; the signed predicate still pins it.
		if sd := st.SubjectDigest(s.PlanFile); sd != "" && sd != s.PlanSHA256 {
			problem("subject: the subject of %s says %s, the predicate %s", s.PlanFile, sd, s.PlanSHA256)
		}
	}
	signed, err := time.Parse(time.RFC3339, p.ReleasedAt)
	if err != nil {
		problem("predicate: releasedAt %q is not an RFC 3339 time", p.ReleasedAt)
		return
	}
	// A waiver is judged at the record's signed time, not now: one that
	// expired later does not break the records signed while it held.
	for _, w := range p.Waivers {
		if _, err := time.Parse("2006-01-02", w.Expires); err != nil {
			problem("waiver %s: expires %q is not a date", w.Rule, w.Expires)
			continue
		}
		switch {
		case WaiverExpired(w, signed):
			problem("waiver %s had expired on %s, before the release was signed on %s", w.Rule, w.Expires, signed.Format("2006-01-02"))
		case WaiverExpired(w, now):
			r.Notes = append(r.Notes, fmt.Sprintf("waiver %s (%s) expired on %s, after the release was signed on %s: it was valid when signed", w.Rule, w.Ticket, w.Expires, signed.Format("2006-01-02")))
		}
	}
}

// checkRecordContent checks what a valid signature cannot in a record
// of a kind other than a release: its signing time.
func checkRecordContent(r *RecordReport) {
	h := r.record.Header
	r.ReleasedAt = h.RecordedAt
	if _, err := time.Parse(time.RFC3339, h.RecordedAt); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("predicate: recordedAt %q is not an RFC 3339 time", h.RecordedAt))
	}
}

// checkArtifact compares the artifact with the newest verified release of
// its model in each environment in scope.
func checkArtifact(path string, records []RecordReport) error {
	d, err := digest.File(path)
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	models := map[string]bool{}
	newest := map[string]int{}
	for i, r := range records {
		if !r.IsRelease() {
			continue
		}
		models[r.Model] = true
		if j, ok := newest[r.Environment+"/"+r.Model]; !ok || records[j].Seq < r.Seq {
			newest[r.Environment+"/"+r.Model] = i
		}
	}
	if len(models) > 1 {
		names := make([]string, 0, len(models))
		for m := range models {
			names = append(names, m)
		}
		sort.Strings(names)
		return fmt.Errorf("--artifact needs one model, the scope has %s: add --model", strings.Join(names, ", "))
	}
	for _, i := range newest {
		r := &records[i]
		if r.statement == nil {
			continue
		}
		want := r.statement.Predicate.Artifact.Digest
		if d != want {
			r.Problems = append(r.Problems, fmt.Sprintf("artifact: %s is %s, the release pinned %s", path, d, want))
		} else {
			r.Notes = append(r.Notes, fmt.Sprintf("artifact %s matches", filepath.Base(path)))
		}
	}
	return nil
}

// Envelopes checks attestation files outside the ledger, such as one
// made with cosign attest-blob: signature, predicate type and content.
// Records carry no chain, so none is checked.
func Envelopes(ctx context.Context, o Options, files []string) (*Report, error) {
	from, err := o.trustedKeys(ctx)
	if err != nil {
		return nil, err
	}
	c := &checker{keys: o.Keys}
	rep := &Report{KeysFrom: from, Records: []RecordReport{}}
	for _, f := range files {
		rr := RecordReport{Path: f}
		b, err := safefile.ReadFile(f, safefile.Record)
		if err != nil {
			return nil, err
		}
		v, err := c.open(ctx, b, false)
		if err != nil {
			rr.Problems = append(rr.Problems, err.Error())
			rep.Records = append(rep.Records, rr)
			continue
		}
		p := v.st.Predicate
		rr.Environment, rr.Model, rr.Version, rr.Revision, rr.KeyID, rr.statement = p.Environment, p.Model.Name, p.Model.Version, p.Revision, v.keyID, v.st
		if (o.Environment != "" && p.Environment != o.Environment) || (o.Model != "" && p.Model.Name != o.Model) {
			rr.Problems = append(rr.Problems, fmt.Sprintf("scope: the attestation is for %s/%s", p.Environment, p.Model.Name))
		}
		checkContent(&rr, o.Now)
		rep.Records = append(rep.Records, rr)
	}
	if o.Artifact != "" {
		d, err := digest.File(o.Artifact)
		if err != nil {
			return nil, fmt.Errorf("artifact: %w", err)
		}
		for i := range rep.Records {
			r := &rep.Records[i]
			if r.statement == nil {
				continue
			}
			if !hasSubject(r.statement, d) {
				r.Problems = append(r.Problems, fmt.Sprintf("artifact: no subject of the attestation has the digest of %s (%s)", o.Artifact, d))
			}
		}
	}
	rep.finish()
	return rep, nil
}

func hasSubject(st *attest.Statement, d string) bool {
	for _, s := range st.Subject {
		if digest.Prefix+s.Digest["sha256"] == d {
			return true
		}
	}
	return false
}

// WaiverExpired reports whether a waiver no longer holds at t: it is good
// through its expiry day, and one whose date does not parse holds never.
func WaiverExpired(w attest.Waiver, t time.Time) bool {
	return checkresult.WaiverExpiredAt(w.Expires, t)
}

// Repair resolves the unlisted records of l, as a release does before it
// appends, trusting keys.
func Repair(ctx context.Context, l *ledger.Ledger, keys []*sign.PublicKey, now time.Time) ([]ledger.Repair, error) {
	c := &checker{keys: keys, seen: map[string]verified{}}
	return l.Repair(ctx, c.check, now)
}

// IndexDamage lists the findings against the ledger's index itself: they
// put every record's place in doubt, so nothing the ledger says holds.
func (rep *Report) IndexDamage() []string { return rep.indexDamage }

// SignedStatement is the statement of a release record whose signature
// verified, whatever else is wrong with it (Statement is nil then): the
// apply gate compares its pinned plans before naming its other problems.
func (r RecordReport) SignedStatement() *attest.Statement { return r.statement }

// Digest is the record file's digest as the ledger's index lists it.
func (r RecordReport) Digest() string { return r.digest }

// checkBundle checks that every blob the record's bundle pins is in the
// store with its digest, naming each one missing or changed. seen caches
// the verdict per digest: releases share blobs.
func checkBundle(l *ledger.Ledger, r *RecordReport, seen map[string]error) {
	b := r.statement.Predicate.Bundle
	if b == nil {
		return
	}
	for _, x := range b.Blobs {
		err, ok := seen[x.Digest]
		if !ok {
			_, err = l.ReadBlob(x.Digest)
			seen[x.Digest] = err
		}
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("bundle: %s blob %v", x.Kind, err))
		}
	}
}
