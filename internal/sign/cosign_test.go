package sign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cosignBinary finds the real cosign CLI: $COSIGN, then PATH, then the
// default go install location. Interop tests skip without it.
func cosignBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the cosign CLI; skipped with -short")
	}
	if p := os.Getenv("COSIGN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("cosign"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "cosign")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("cosign CLI not found (set $COSIGN or install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5)")
	return ""
}

// cosignArgs builds the argv of a cosign invocation apart from running it.
func cosignArgs(sub string, args ...string) []string {
	return append([]string{sub}, args...)
}

func runCosign(t *testing.T, bin, dir, password string, args []string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+password, "TUF_ROOT="+filepath.Join(dir, ".sigstore"), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cosign %v: %v\n%s", args, err, out)
	}
}

const testPredicateType = "https://slipway.dev/attestation/release/v1"

// TestCosignInterop checks both directions against the real cosign CLI:
// a key from cosign generate-key-pair signs our envelope and cosign
// verify-blob-attestation accepts it; cosign attest-blob's envelope
// verifies here.
func TestCosignInterop(t *testing.T) {
	bin := cosignBinary(t)
	ctx := context.Background()
	dir := t.TempDir()
	runCosign(t, bin, dir, "cosign-pw", cosignArgs("generate-key-pair"))
	priv, err := os.ReadFile(filepath.Join(dir, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadPrivateKey(priv, []byte("cosign-pw"))
	if err != nil {
		t.Fatalf("load cosign key: %v", err)
	}
	pub, err := ParsePublicKey("cosign", pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte("model bytes\n")
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), artifact, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(artifact)

	t.Run("ours verified by cosign", func(t *testing.T) {
		stmt, _ := json.Marshal(map[string]any{
			"_type":         "https://in-toto.io/Statement/v1",
			"subject":       []any{map[string]any{"name": "model.onnx", "digest": map[string]string{"sha256": hex.EncodeToString(sum[:])}}},
			"predicateType": testPredicateType,
			"predicate":     map[string]any{"model": "m"},
		})
		env, err := s.Sign(ctx, stmt)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ours.intoto.json"), env, 0o644); err != nil {
			t.Fatal(err)
		}
		runCosign(t, bin, dir, "", cosignArgs("verify-blob-attestation", "--key", "cosign.pub", "--signature", "ours.intoto.json",
			"--type", testPredicateType, "--insecure-ignore-tlog=true", "model.onnx"))
	})

	t.Run("cosign's verified by us", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "predicate.json"), []byte(`{"model":"m"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		runCosign(t, bin, dir, "cosign-pw", cosignArgs("attest-blob", "--key", "cosign.key", "--predicate", "predicate.json",
			"--type", testPredicateType, "--tlog-upload=false", "--output-signature", "theirs.intoto.json", "-y", "model.onnx"))
		b, err := os.ReadFile(filepath.Join(dir, "theirs.intoto.json"))
		if err != nil {
			t.Fatal(err)
		}
		e, err := ParseEnvelope(b)
		if err != nil {
			t.Fatal(err)
		}
		k, err := Verify(ctx, e, []*PublicKey{pub})
		if err != nil {
			t.Fatal(err)
		}
		if k.ID != "cosign" {
			t.Fatalf("verified by %q", k.ID)
		}
	})
}
