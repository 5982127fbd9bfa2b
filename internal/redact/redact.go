// Package redact keeps secrets and unbounded input out of what Slipway
// prints: PostgreSQL connection strings and the values of secret
// environment variables are masked in any text, credentials are stripped
// from git remote URLs before they are signed, and values quoted in errors
// are clipped to a few hundred bytes.
package redact

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask replaces every secret in redacted text.
const Mask = "[REDACTED]"

// SecretEnv names the environment variables that always hold secrets in
// CI: the GitHub token and the signing key's passwords. The variables a
// spec's pg backends name (connEnv) are added as they are read.
var SecretEnv = []string{"GITHUB_TOKEN", "COSIGN_PASSWORD", "SLIPWAY_KEY_PASSWORD"}

// minSecret is the shortest value masked wherever it appears: masking a
// one- or two-letter value would garble every message without hiding
// anything an attacker could not guess.
const minSecret = 4

var (
	// userinfo is the password part of a URL's userinfo: scheme://user:PASS@.
	// It stops at whitespace or the last @ of the token, so a malformed URL
	// with an unescaped @ or / in its password is still covered.
	userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s"']*:)([^\s"']*)@`)
	// keyword is a secret in libpq's key=value form or a URL query:
	// password=..., password = '...', ?access_token=....
	keyword = regexp.MustCompile(`(?i)\b((?:password|passwd|pwd|sslpassword|access_token|token)\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&'"]+)`)
)

// Text masks connection-string passwords and URL credentials in s. It
// knows no secret values; a Redactor masks those too.
func Text(s string) string {
	if !strings.ContainsAny(s, "=@") {
		return s
	}
	s = userinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	return keyword.ReplaceAllString(s, "${1}"+Mask)
}

// Redactor masks known secret values, and everything Text masks, in text.
// It is safe for concurrent use; values can be added while it is in use.
type Redactor struct {
	mu     sync.RWMutex
	values []string
}

// New returns a redactor masking the given values.
func New(values ...string) *Redactor {
	r := &Redactor{}
	r.Add(values...)
	return r
}

// FromEnv returns a redactor masking the values of SecretEnv and of names.
func FromEnv(getenv func(string) string, names ...string) *Redactor {
	r := New()
	for _, n := range append(slices.Clone(SecretEnv), names...) {
		r.Add(getenv(n))
	}
	return r
}

// Add adds secret values. A value is also masked in the escaped forms
// errors quote it in (%q and JSON), and a connection string's password is
// masked on its own, since a parse error may quote only that part.
func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	var add []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < minSecret {
			continue
		}
		add = append(add, v)
		if q := strconv.Quote(v); q[1:len(q)-1] != v {
			add = append(add, q[1:len(q)-1])
		}
		if p := password(v); len(p) >= minSecret {
			add = append(add, p)
		}
	}
	if len(add) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range add {
		if !slices.Contains(r.values, v) {
			r.values = append(r.values, v)
		}
	}
	// Longest first, so a value containing another is masked whole.
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
}

// password is the password of a connection string in URL or key=value
// form, or "" when s has none.
func password(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			return p
		}
	}
	if m := userinfo.FindStringSubmatch(s); m != nil {
		return m[2]
	}
	if m := keyword.FindStringSubmatch(s); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}

// String masks the redactor's values and everything Text masks in s.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, v := range r.values {
			s = strings.ReplaceAll(s, v, Mask)
		}
		r.mu.RUnlock()
	}
	return Text(s)
}

// Getenv wraps getenv so that every value read through it is masked from
// then on: it is what Slipway hands the code that reads the variables a
// spec names for connection strings.
func (r *Redactor) Getenv(getenv func(string) string) func(string) string {
	return func(name string) string {
		v := getenv(name)
		r.Add(v)
		return v
	}
}

// Handler wraps a slog handler so that the message and every attribute
// value of each record are masked before h sees them.
func (r *Redactor) Handler(h slog.Handler) slog.Handler { return &handler{r: r, h: h} }

type handler struct {
	r *Redactor
	h slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = h.attr(a)
	}
	return &handler{r: h.r, h: h.h.WithAttrs(masked)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{r: h.r, h: h.h.WithGroup(name)}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		masked := make([]any, len(g))
		for i, x := range g {
			masked[i] = h.attr(x)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		s := fmt.Sprint(v.Any())
		if m := h.r.String(s); m != s {
			return slog.String(a.Key, m)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// RemoteURL strips the credentials and the query of a git remote URL, so
// that https://x:TOKEN@host/repo.git?access_token=T is recorded as
// https://host/repo.git. scp-like remotes (git@host:path) keep their user,
// which names no secret.
func RemoteURL(s string) string {
	if s == "" {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		return u.String()
	}
	// Not a URL Go parses (an scp-like remote, or a malformed URL): cut
	// the query and fragment, then any userinfo with a password.
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			return s[:i+3] + rest[at+1:]
		}
		return s
	}
	if at := strings.LastIndex(s, "@"); at >= 0 && strings.Contains(s[:at], ":") {
		return s[at+1:]
	}
	return s
}

// maxQuoted is how many bytes of an input value an error quotes.
const maxQuoted = 256

// Clip shortens s to at most a few hundred bytes for quoting in an error,
// on a rune boundary, saying how long it was: an error must not repeat a
// 50 MB string or a 1 GB CSV header.
func Clip(s string) string {
	head, ok := cut(s, maxQuoted)
	if !ok {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", head, len(s))
}

// Quote is what an error's %q shows of an input value: strconv.Quote of
// the value, clipped like Clip.
func Quote(s string) string {
	head, ok := cut(s, maxQuoted)
	if !ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(head), len(s))
}

// maxMessage is the longest message Message lets through.
const maxMessage = 2048

// Message bounds a message made from input, such as a CUE error or a
// policy's result: every double-quoted value in it is clipped like Quote,
// and what is still too long is cut. The message's own words around the
// quoted values survive.
func Message(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		j := closingQuote(s, i)
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		if q := s[i : j+1]; len(q) > maxQuoted+2 {
			if v, err := strconv.Unquote(q); err == nil {
				b.WriteString(Quote(v))
			} else {
				b.WriteString(Clip(q))
			}
		} else {
			b.WriteString(q)
		}
		s = s[j+1:]
	}
	b.WriteString(s)
	out := b.String()
	if head, ok := cut(out, maxMessage); ok {
		return fmt.Sprintf("%s… (%d bytes)", head, len(out))
	}
	return out
}

// closingQuote is the index of the quote closing the one at s[i], skipping
// backslash escapes, or -1.
func closingQuote(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// cut returns the first max bytes of s, ending on a rune boundary, and
// whether that is shorter than s.
func cut(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// Err returns err with its text masked, still matching errors.Is and
// errors.As as err does; nil stays nil.
func (r *Redactor) Err(err error) error {
	if err == nil {
		return nil
	}
	return &maskedError{msg: r.String(err.Error()), err: err}
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
