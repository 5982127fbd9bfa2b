// Package sign makes and checks the signatures on Slipway's release
// attestations: key pairs in cosign's encrypted format, DSSE envelopes over
// in-toto statements, and verification against a set of trusted public keys.
// It is the only package that imports cosign and sigstore, so the rest of
// Slipway deals in PEM bytes and envelope bytes alone.
package sign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	sigopts "github.com/sigstore/sigstore/pkg/signature/options"
)

// PayloadType is the DSSE payload type of an in-toto statement, the one
// cosign's attest-blob uses too.
const PayloadType = "application/vnd.in-toto+json"

// Password environment variables, in the order they are consulted. A
// password never comes from a flag or a file, so it never lands in shell
// history or the repository.
var PasswordEnv = []string{"SLIPWAY_KEY_PASSWORD", "COSIGN_PASSWORD"}

// Errors callers branch on.
var (
	// ErrNoPassword means neither password variable is set.
	ErrNoPassword = errors.New("no key password: set SLIPWAY_KEY_PASSWORD or COSIGN_PASSWORD")
	// ErrWrongPassword means the private key did not decrypt.
	ErrWrongPassword = errors.New("wrong key password")
	// ErrNotPrivateKey means the file is not a cosign private key.
	ErrNotPrivateKey = errors.New("not a cosign private key")
	// ErrNotPublicKey means the bytes are not a PEM public key.
	ErrNotPublicKey = errors.New("not a PEM public key")
	// ErrMalformed means the bytes are not a DSSE envelope.
	ErrMalformed = errors.New("malformed envelope")
)

// Password returns the key password from the environment.
func Password(getenv func(string) string) ([]byte, error) {
	for _, name := range PasswordEnv {
		if v := getenv(name); v != "" {
			return []byte(v), nil
		}
	}
	return nil, ErrNoPassword
}

// KeyPair is a freshly generated key pair, both halves PEM encoded; the
// private half is encrypted with the password it was made with.
type KeyPair struct {
	Private []byte
	Public  []byte
	// KeyID is the public key's fingerprint, as written into signatures.
	KeyID string
}

// GenerateKeyPair makes an ECDSA P-256 key pair in cosign's format, the
// same cosign generate-key-pair writes.
func GenerateKeyPair(password []byte) (KeyPair, error) {
	if len(password) == 0 {
		return KeyPair{}, ErrNoPassword
	}
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return password, nil })
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate key pair: %w", err)
	}
	pub, err := ParsePublicKey("", kb.PublicBytes)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{Private: kb.PrivateBytes, Public: kb.PublicBytes, KeyID: pub.Fingerprint}, nil
}

// Signer signs statements with one private key.
type Signer struct {
	sv  signature.SignerVerifier
	pub crypto.PublicKey
	// KeyID is the fingerprint of the signer's public key.
	KeyID string
}

// LoadPrivateKey decrypts a cosign private key (made by Slipway or by
// cosign generate-key-pair) with password.
func LoadPrivateKey(pemBytes, password []byte) (*Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY") || !strings.HasPrefix(block.Type, "ENCRYPTED ") {
		return nil, ErrNotPrivateKey
	}
	sv, err := cosign.LoadPrivateKey(pemBytes, password, nil)
	if err != nil {
		// cosign reports a failed decryption as "decrypt: ..."; anything
		// else means the key itself is unusable.
		if strings.HasPrefix(err.Error(), "decrypt") {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("%w: %v", ErrNotPrivateKey, err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, err
	}
	id, err := dsse.SHA256KeyID(pub)
	if err != nil {
		return nil, fmt.Errorf("key fingerprint: %w", err)
	}
	return &Signer{sv: sv, pub: pub, KeyID: id}, nil
}

// PublicKeyPEM returns the signer's public key in PEM form.
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	return cryptoutils.MarshalPublicKeyToPEM(s.pub)
}

// Sign wraps statement in a DSSE envelope signed by s and returns the
// envelope's JSON. The signature carries s's key id so verifiers can tell
// a record signed by an unknown key from one whose bytes were changed.
func (s *Signer) Sign(ctx context.Context, statement []byte) ([]byte, error) {
	es, err := dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{
		SignatureSigner: s.sv,
		Pub:             s.pub,
		Opts:            []signature.SignOption{sigopts.WithContext(ctx)},
		PubKeyID:        s.KeyID,
	})
	if err != nil {
		return nil, err
	}
	env, err := es.SignPayload(ctx, PayloadType, statement)
	if err != nil {
		return nil, fmt.Errorf("sign statement: %w", err)
	}
	return json.Marshal(env)
}

// PublicKey is a trusted public key.
type PublicKey struct {
	// ID is the name the platform gives the key (signing.trustedKeys[].id).
	ID string
	// Fingerprint is the key id written into DSSE signatures.
	Fingerprint string
	v           signature.Verifier
}

// ParsePublicKey reads a PEM public key such as cosign.pub.
func ParsePublicKey(id string, pemBytes []byte) (*PublicKey, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPublicKey, err)
	}
	v, err := signature.LoadDefaultVerifier(pub, *cosign.GetDefaultLoadOptions(nil)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPublicKey, err)
	}
	fp, err := dsse.SHA256KeyID(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPublicKey, err)
	}
	return &PublicKey{ID: id, Fingerprint: fp, v: v}, nil
}

// Envelope is a parsed DSSE envelope.
type Envelope struct {
	PayloadType string
	// Payload is the decoded payload, the in-toto statement's JSON.
	Payload    []byte
	Signatures []Signature
}

// Signature is one signature of an envelope.
type Signature struct {
	KeyID string
	Sig   []byte
}

// compactPrefix starts every envelope Slipway and cosign write.
var compactPrefix = []byte(`{"payloadType":"` + PayloadType + `","payload":"`)

// ParseEnvelope decodes envelope JSON without checking its signatures.
func ParseEnvelope(b []byte) (*Envelope, error) {
	if e, ok := parseCompact(b); ok {
		return e, nil
	}
	return parseEnvelopeJSON(b)
}

// parseCompact reads the envelope layout Slipway and cosign write without
// running a JSON scanner over the payload, which is most of the bytes and
// most of the time when a ledger of thousands of records is verified.
// Base64 has no quote or backslash, so the payload ends at the next quote;
// the rest of the object is decoded as JSON. Anything unexpected falls back
// to the general decoder.
func parseCompact(b []byte) (*Envelope, bool) {
	if !bytes.HasPrefix(b, compactPrefix) {
		return nil, false
	}
	rest := b[len(compactPrefix):]
	end := bytes.IndexByte(rest, '"')
	if end <= 0 {
		return nil, false
	}
	payload := make([]byte, base64.StdEncoding.DecodedLen(end))
	n, err := base64.StdEncoding.Decode(payload, rest[:end])
	if err != nil {
		return nil, false
	}
	tail := rest[end+1:]
	if len(tail) < 2 || tail[0] != ',' {
		return nil, false
	}
	var sigs struct {
		PayloadType json.RawMessage `json:"payloadType"`
		Payload     json.RawMessage `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	obj := append([]byte{'{'}, tail[1:]...)
	if err := json.Unmarshal(obj, &sigs); err != nil || sigs.PayloadType != nil || sigs.Payload != nil {
		return nil, false
	}
	e := &Envelope{PayloadType: PayloadType, Payload: payload[:n]}
	for _, s := range sigs.Signatures {
		e.Signatures = append(e.Signatures, Signature{KeyID: s.KeyID, Sig: s.Sig})
	}
	return e, true
}

// parseEnvelopeJSON decodes any envelope with the JSON decoder.
func parseEnvelopeJSON(b []byte) (*Envelope, error) {
	// Decoding the base64 fields straight into []byte saves a copy of
	// every payload; it takes standard base64, which cosign and Slipway
	// write. DSSE also allows URL-safe base64, read the slower way.
	var raw struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return parseEnvelopeURL(b)
	}
	if raw.PayloadType == "" || len(raw.Payload) == 0 {
		return nil, fmt.Errorf("%w: payloadType and payload are required", ErrMalformed)
	}
	e := &Envelope{PayloadType: raw.PayloadType, Payload: raw.Payload}
	for _, s := range raw.Signatures {
		e.Signatures = append(e.Signatures, Signature{KeyID: s.KeyID, Sig: s.Sig})
	}
	return e, nil
}

func parseEnvelopeURL(b []byte) (*Envelope, error) {
	var raw dsse.Envelope
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if raw.PayloadType == "" || raw.Payload == "" {
		return nil, fmt.Errorf("%w: payloadType and payload are required", ErrMalformed)
	}
	payload, err := raw.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	e := &Envelope{PayloadType: raw.PayloadType, Payload: payload}
	for i, s := range raw.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			if sig, err = base64.URLEncoding.DecodeString(s.Sig); err != nil {
				return nil, fmt.Errorf("%w: signatures[%d]: %v", ErrMalformed, i, err)
			}
		}
		e.Signatures = append(e.Signatures, Signature{KeyID: s.KeyID, Sig: sig})
	}
	return e, nil
}

// paeReader streams the parts of a PAE. Its WriteTo lets the verifier's
// io.Copy into the hash write the parts straight through, without the
// 32 KiB buffer io.Copy and io.MultiReader would allocate per signature.
type paeReader struct {
	parts [][]byte
}

func (r *paeReader) Read(p []byte) (int, error) {
	for len(r.parts) > 0 && len(r.parts[0]) == 0 {
		r.parts = r.parts[1:]
	}
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	return n, nil
}

func (r *paeReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(r.parts) > 0 {
		n, err := w.Write(r.parts[0])
		total += int64(n)
		r.parts[0] = r.parts[0][n:]
		if err != nil {
			return total, err
		}
		r.parts = r.parts[1:]
	}
	return total, nil
}

// VerifyError says why no trusted key verified an envelope.
type VerifyError struct {
	// Untrusted is true when every signature names a key id that no
	// trusted key has: the envelope was signed by someone else.
	Untrusted bool
	// KeyIDs are the key ids the signatures name.
	KeyIDs []string
	// NoSignatures is true for an envelope without any signature.
	NoSignatures bool
}

// Error says why the envelope did not verify.
func (e *VerifyError) Error() string {
	switch {
	case e.NoSignatures:
		return "envelope has no signature"
	case e.Untrusted:
		return fmt.Sprintf("signed by an untrusted key (%s)", strings.Join(e.KeyIDs, ", "))
	default:
		return "signature does not verify with any trusted key"
	}
}

// Verify checks e's signatures against keys and returns the trusted key
// that verified it. Only one valid signature by a trusted key is needed.
func Verify(ctx context.Context, e *Envelope, keys []*PublicKey) (*PublicKey, error) {
	if e.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: payload type %q, want %q", ErrMalformed, e.PayloadType, PayloadType)
	}
	if len(e.Signatures) == 0 {
		return nil, &VerifyError{NoSignatures: true}
	}
	// DSSE signs PAE(type, payload) = "DSSEv1 <len type> <type> <len
	// payload> <payload>"; streaming the header and the payload to the
	// verifier spares a copy of every payload.
	header := []byte(fmt.Sprintf("DSSEv1 %d %s %d ", len(e.PayloadType), e.PayloadType, len(e.Payload)))
	pae := func() io.Reader { return &paeReader{parts: [][]byte{header, e.Payload}} }
	verr := &VerifyError{Untrusted: true}
	for _, s := range e.Signatures {
		if s.KeyID != "" {
			verr.KeyIDs = append(verr.KeyIDs, s.KeyID)
		}
		for _, k := range keys {
			// Like DSSE verifiers, a signature naming a key id is only
			// tried with that key; one naming none is tried with all.
			if s.KeyID != "" && s.KeyID != k.Fingerprint {
				continue
			}
			verr.Untrusted = false
			err := k.v.VerifySignature(bytes.NewReader(s.Sig), pae(), sigopts.WithContext(ctx))
			if err == nil {
				return k, nil
			}
		}
	}
	return nil, verr
}
