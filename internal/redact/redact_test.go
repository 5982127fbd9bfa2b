package redact_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/redact"
)

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://slipway:s3cr3t-pw@db.internal:5432/state?sslmode=disable",
			"postgres://slipway:[REDACTED]@db.internal:5432/state?sslmode=disable"},
		{`parse "postgresql://u:p@ss/w@rd@host:port/db": invalid port`,
			`parse "postgresql://u:[REDACTED]@host:port/db": invalid port`},
		{"host=db user=slipway password=s3cr3t-pw sslmode=disable",
			"host=db user=slipway password=[REDACTED] sslmode=disable"},
		{"host=db password = 's3 cr3t' dbname=x", "host=db password = [REDACTED] dbname=x"},
		{`host=db password='s3cr3t \' pw' dbname=x`, `host=db password=[REDACTED] dbname=x`},
		{"host=db PASSWORD=unterminated'quote", "host=db PASSWORD=[REDACTED]'quote"},
		{"https://x:TOKEN@github.com/acme/p.git?access_token=T2",
			"https://x:[REDACTED]@github.com/acme/p.git?access_token=[REDACTED]"},
		{"no secrets: a=b, mail me@example.com", "no secrets: a=b, mail me@example.com"},
		{"https://github.com/acme/p.git", "https://github.com/acme/p.git"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, redact.Text(tt.in)); diff != "" {
			t.Errorf("Text(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestRedactorValues: a secret variable's value is masked wherever it
// appears, also escaped by %q, and a malformed connection string's
// password on its own.
func TestRedactorValues(t *testing.T) {
	env := map[string]string{
		"GITHUB_TOKEN":         "ghs_tokenvalue123",
		"SLIPWAY_KEY_PASSWORD": `pw"with"quotes`,
		"COSIGN_PASSWORD":      "ab", // too short to mask
		"PG_STAGING":           "postgres://u:hunter2pw@host:notaport/db",
	}
	r := redact.FromEnv(func(k string) string { return env[k] }, "PG_STAGING")
	tests := []struct{ in, want string }{
		{"token ghs_tokenvalue123 leaked", "token [REDACTED] leaked"},
		{fmt.Sprintf("bad password %q", env["SLIPWAY_KEY_PASSWORD"]), `bad password "[REDACTED]"`},
		{`invalid port ":notaport" after host; pass hunter2pw`, `invalid port ":notaport" after host; pass [REDACTED]`},
		{"conn " + env["PG_STAGING"], "conn [REDACTED]"},
		{"ab stays", "ab stays"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, r.String(tt.in)); diff != "" {
			t.Errorf("String(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	// Values read through Getenv are masked from then on.
	get := r.Getenv(func(string) string { return "host=x password=late-secret-9" })
	_ = get("OTHER")
	if got := r.String("saw late-secret-9"); strings.Contains(got, "late-secret-9") {
		t.Errorf("value read through Getenv not masked: %s", got)
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	r := redact.New("tok-abcdef")
	log := slog.New(r.Handler(slog.NewTextHandler(&buf, nil))).With("pre", "tok-abcdef")
	log.InfoContext(context.Background(), "using tok-abcdef",
		"err", errors.New("dial postgres://u:pgpass99@h/db"),
		slog.Group("g", "s", "x tok-abcdef"),
		"n", 3)
	out := buf.String()
	for _, secret := range []string{"tok-abcdef", "pgpass99"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line holds %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "n=3") {
		t.Errorf("other attributes lost:\n%s", out)
	}
}

func TestRemoteURL(t *testing.T) {
	tests := map[string]string{
		"https://x:TOKEN@host.example/acme/repo.git?access_token=T2": "https://host.example/acme/repo.git",
		"https://user:token@github.com/acme/platform.git":            "https://github.com/acme/platform.git",
		"https://github.com/acme/platform.git#frag":                  "https://github.com/acme/platform.git",
		"https://github.com/acme/platform.git":                       "https://github.com/acme/platform.git",
		"ssh://git@github.com/acme/platform.git":                     "ssh://github.com/acme/platform.git",
		"git@github.com:acme/platform.git":                           "git@github.com:acme/platform.git",
		"https://x:TO KEN@host/repo.git?t=T2":                        "https://host/repo.git",
		"x:TOKEN@host:acme/repo.git":                                 "host:acme/repo.git",
		"/srv/git/repo.git":                                          "/srv/git/repo.git",
		"":                                                           "",
	}
	for in, want := range tests {
		if got := redact.RemoteURL(in); got != want {
			t.Errorf("RemoteURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClipAndQuote(t *testing.T) {
	if got := redact.Quote("short"); got != `"short"` {
		t.Errorf("Quote(short) = %s", got)
	}
	big := strings.Repeat("é", 5<<20/2) // 5 MB of two-byte runes
	for name, got := range map[string]string{"Clip": redact.Clip(big), "Quote": redact.Quote(big)} {
		if len(got) > 400 {
			t.Errorf("%s kept %d bytes", name, len(got))
		}
		if !strings.Contains(got, fmt.Sprintf("(%d bytes)", len(big))) {
			t.Errorf("%s does not say the length: %s", name, got)
		}
		if strings.Contains(got, "\\x") || strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("%s cut a rune: %s", name, got)
		}
	}
}

func TestErr(t *testing.T) {
	base := fmt.Errorf("init: %w", context.Canceled)
	err := redact.New("init").Err(base)
	if err.Error() != "[REDACTED]: context canceled" {
		t.Errorf("Err text = %q", err.Error())
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Err lost the wrapped error")
	}
	if redact.New().Err(nil) != nil {
		t.Errorf("Err(nil) != nil")
	}
}

func TestMessage(t *testing.T) {
	huge := strings.Repeat("x", 5<<20)
	msg := fmt.Sprintf("invalid value %q (does not satisfy =~%q): want an e-mail address", huge, "^[^@]+@.+$")
	got := redact.Message(msg)
	if len(got) > 1024 {
		t.Fatalf("Message kept %d bytes", len(got))
	}
	for _, want := range []string{`invalid value "xxx`, `(5242880 bytes) (does not satisfy =~"^[^@]+@.+$"): want an e-mail address`} {
		if !strings.Contains(got, want) {
			t.Errorf("Message lost %q: %s", want, got)
		}
	}
	if got := redact.Message("short " + `"q"`); got != `short "q"` {
		t.Errorf("short message changed: %s", got)
	}
	unquoted := redact.Message(huge)
	if len(unquoted) > 4096 || !strings.HasSuffix(unquoted, "(5242880 bytes)") {
		t.Errorf("unquoted message: %d bytes, ends %q", len(unquoted), unquoted[len(unquoted)-30:])
	}
}
