package sign

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// testPassword encrypts every key the tests generate.
const testPassword = "pw"

// testKeys are the package's key pairs, generated and decrypted once per
// test binary on first use: each costs two runs of scrypt at no less than
// the 2^15 work the key format accepts (it refuses lower parameters on
// decryption), which was most of this package's test time.
var testKeys struct {
	mu   sync.Mutex
	keys map[int]testKey
}

type testKey struct {
	kp  KeyPair
	s   *Signer
	pub *PublicKey
}

// mustKeys returns test key pair number n (0, 1, ...): the same pair for
// the same n, a different one for each n. Tests only sign and verify with
// them.
func mustKeys(t testing.TB, n int) (KeyPair, *Signer, *PublicKey) {
	t.Helper()
	testKeys.mu.Lock()
	defer testKeys.mu.Unlock()
	if k, ok := testKeys.keys[n]; ok {
		return k.kp, k.s, k.pub
	}
	kp, err := GenerateKeyPair([]byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadPrivateKey(kp.Private, []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey("test", kp.Public)
	if err != nil {
		t.Fatal(err)
	}
	if testKeys.keys == nil {
		testKeys.keys = map[int]testKey{}
	}
	testKeys.keys[n] = testKey{kp, s, pub}
	return kp, s, pub
}

func TestPassword(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, err := Password(getenv); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("no variables: got %v, want ErrNoPassword", err)
	}
	env["COSIGN_PASSWORD"] = "c"
	if p, _ := Password(getenv); string(p) != "c" {
		t.Fatalf("COSIGN_PASSWORD: got %q", p)
	}
	env["SLIPWAY_KEY_PASSWORD"] = "s"
	if p, _ := Password(getenv); string(p) != "s" {
		t.Fatalf("SLIPWAY_KEY_PASSWORD wins: got %q", p)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	kp, s, pub := mustKeys(t, 0)
	if s.KeyID != kp.KeyID || pub.Fingerprint != kp.KeyID {
		t.Fatalf("key ids differ: pair %s signer %s public %s", kp.KeyID, s.KeyID, pub.Fingerprint)
	}
	stmt := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	envJSON, err := s.Sign(ctx, stmt)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseEnvelope(envJSON)
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Payload) != string(stmt) {
		t.Fatalf("payload %q", e.Payload)
	}
	k, err := Verify(ctx, e, []*PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != "test" {
		t.Fatalf("verified by %q", k.ID)
	}
}

func TestLoadPrivateKeyErrors(t *testing.T) {
	kp, _, _ := mustKeys(t, 0)
	if _, err := LoadPrivateKey(kp.Private, []byte("wrong")); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: got %v", err)
	}
	if _, err := LoadPrivateKey(kp.Public, []byte(testPassword)); !errors.Is(err, ErrNotPrivateKey) {
		t.Errorf("public key as private: got %v", err)
	}
	if _, err := LoadPrivateKey([]byte("junk"), []byte(testPassword)); !errors.Is(err, ErrNotPrivateKey) {
		t.Errorf("junk: got %v", err)
	}
	if _, err := ParsePublicKey("x", []byte("junk")); !errors.Is(err, ErrNotPublicKey) {
		t.Errorf("junk public key: got %v", err)
	}
	if _, err := GenerateKeyPair(nil); !errors.Is(err, ErrNoPassword) {
		t.Errorf("empty password: got %v", err)
	}
}

func TestVerifyFailures(t *testing.T) {
	ctx := context.Background()
	_, s, pub := mustKeys(t, 0)
	_, other, otherPub := mustKeys(t, 1)
	stmt := []byte(`{"a":1}`)
	good, _ := s.Sign(ctx, stmt)
	byOther, _ := other.Sign(ctx, stmt)
	otherStmt, _ := s.Sign(ctx, []byte(`{"a":2}`))

	edit := func(b []byte, f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	sigOf := func(b []byte) any {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m["signatures"].([]any)[0].(map[string]any)["sig"]
	}
	tests := []struct {
		name      string
		env       []byte
		keys      []*PublicKey
		untrusted bool
	}{
		{"edited payload", edit(good, func(m map[string]any) { m["payload"] = base64.StdEncoding.EncodeToString([]byte(`{"a":3}`)) }), []*PublicKey{pub}, false},
		{"swapped signature", edit(good, func(m map[string]any) {
			m["signatures"].([]any)[0].(map[string]any)["sig"] = sigOf(otherStmt)
		}), []*PublicKey{pub}, false},
		{"untrusted key", byOther, []*PublicKey{pub}, true},
		{"trusted key missing", good, []*PublicKey{otherPub}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEnvelope(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Verify(ctx, e, tt.keys)
			var verr *VerifyError
			if !errors.As(err, &verr) {
				t.Fatalf("got %v, want a VerifyError", err)
			}
			if verr.Untrusted != tt.untrusted {
				t.Fatalf("untrusted = %v, want %v (%v)", verr.Untrusted, tt.untrusted, err)
			}
		})
	}
	if _, err := ParseEnvelope([]byte(`{"payloadType":"x"}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("no payload: got %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	_, s, pub := mustKeys(b, 0)
	envJSON, _ := s.Sign(ctx, []byte(`{"a":1}`))
	for b.Loop() {
		e, err := ParseEnvelope(envJSON)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Verify(ctx, e, []*PublicKey{pub}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseEnvelopeURLSafe(t *testing.T) {
	payload := []byte("\xfb\xff\xfe statement with bytes that need + and / in base64")
	env := `{"payloadType":"` + PayloadType + `","payload":"` + base64.URLEncoding.EncodeToString(payload) +
		`","signatures":[{"keyid":"k","sig":"` + base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff}) + `"}]}`
	e, err := ParseEnvelope([]byte(env))
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Payload) != string(payload) || string(e.Signatures[0].Sig) != "\xfb\xff" {
		t.Fatalf("payload %q sig %q", e.Payload, e.Signatures[0].Sig)
	}
}

// TestParseCompact: the fast path reads exactly what the JSON decoder
// reads, and leaves anything unusual to it.
func TestParseCompact(t *testing.T) {
	ctx := context.Background()
	_, s, _ := mustKeys(t, 0)
	good, err := s.Sign(ctx, []byte(`{"a":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	fast, ok := parseCompact(good)
	if !ok {
		t.Fatal("compact envelope not taken by the fast path")
	}
	slow, err := parseEnvelopeJSON(good)
	if err != nil {
		t.Fatal(err)
	}
	if string(fast.Payload) != string(slow.Payload) || len(fast.Signatures) != 1 ||
		fast.Signatures[0].KeyID != slow.Signatures[0].KeyID || string(fast.Signatures[0].Sig) != string(slow.Signatures[0].Sig) {
		t.Fatalf("fast %+v, slow %+v", fast, slow)
	}
	prefix := `{"payloadType":"` + PayloadType + `","payload":"`
	for _, bad := range []string{
		prefix + `e30="}`,
		prefix + `e30=","payload":"e30=","signatures":[]}`,
		prefix + `e30=","payloadType":"x","signatures":[]}`,
		prefix + `e3!=","signatures":[]}`,
		prefix + `e30=" ,"signatures":[]}`,
	} {
		if _, ok := parseCompact([]byte(bad)); ok {
			t.Errorf("fast path took %s", bad)
		}
	}
}

// TestPAE: the streamed pre-authentication encoding is DSSE's.
func TestPAE(t *testing.T) {
	ctx := context.Background()
	_, s, pub := mustKeys(t, 0)
	payload := []byte(`{"x":"y"}`)
	sig, err := s.sv.SignMessage(bytes.NewReader(dsse.PAE(PayloadType, payload)))
	if err != nil {
		t.Fatal(err)
	}
	e := &Envelope{PayloadType: PayloadType, Payload: payload, Signatures: []Signature{{Sig: sig}}}
	if _, err := Verify(ctx, e, []*PublicKey{pub}); err != nil {
		t.Fatal(err)
	}
}

func TestPAEReader(t *testing.T) {
	want := "DSSEv1 1 t 3 abc"
	r := &paeReader{parts: [][]byte{[]byte("DSSEv1 1 t 3 "), []byte("abc")}}
	got, err := io.ReadAll(struct{ io.Reader }{r})
	if err != nil || string(got) != want {
		t.Fatalf("Read: %q %v", got, err)
	}
	var buf bytes.Buffer
	r = &paeReader{parts: [][]byte{[]byte("DSSEv1 1 t 3 "), []byte("abc")}}
	if n, err := r.WriteTo(&buf); err != nil || n != int64(len(want)) || buf.String() != want {
		t.Fatalf("WriteTo: %q %d %v", buf.String(), n, err)
	}
}
