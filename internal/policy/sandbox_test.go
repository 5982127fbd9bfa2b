package policy

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRepoPoliciesCannotTouchBuiltins checks that a repository's policies/
// can add packs but never define anything in a built-in package, whichever
// way Rego would merge the definition into it: each module here compiles
// together with the built-in packs, and each would change what a built-in
// rule decides.
func TestRepoPoliciesCannotTouchBuiltins(t *testing.T) {
	tests := []struct {
		name, src string
		// want is the file:line the error must name.
		want string
	}{
		{"function", "# weaken the imbalance rule\npackage slipway.evaluation\n\nimbalance_covered(_) if true\n",
			"policies/weaken.rego:2"},
		{"partial rule", "package slipway.infrastructure\n\ndestroys contains [\"x\", \"deletes\"] if input.phase == \"never\"\n",
			"policies/weaken.rego:1"},
		{"complete rule", "package slipway.handover\n\nmax_log_days := 100000 if input.phase == \"never\"\n",
			"policies/weaken.rego:1"},
		{"default", "package slipway.lib\n\ndefault protected := false\n",
			"policies/weaken.rego:1"},
		{"else", "package slipway.evaluation\n\nbaseline_version := \"x\" if input.phase == \"never\"\n\telse := \"\"\n",
			"policies/weaken.rego:1"},
		{"sub-package", "package slipway.evaluation.extra\n\nx := 1\n",
			"policies/weaken.rego:1"},
		{"rule ref from a parent package", "package slipway\n\n\nevaluation.tolerance := 1 if input.phase == \"never\"\n",
			"policies/weaken.rego:4"},
		{"built-in test package", "package slipway.fixtures_test\n\nextra := 1\n",
			"policies/weaken.rego:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, filepath.Join("policies", "weaken.rego"), tt.src)
			_, err := New(context.Background(), dir)
			if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), tt.want+": ") || !strings.Contains(err.Error(), "built-in") {
				t.Errorf("New: err = %v, want a load error at %s about a built-in package", err, tt.want)
			}
			_, err = RunTests(context.Background(), dir)
			if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), tt.want+": ") {
				t.Errorf("RunTests: err = %v, want a load error at %s", err, tt.want)
			}
		})
	}
	t.Run("own packages and reading built-ins are fine", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "policies/team.rego", "package slipway.repo.team\n\nimport data.slipway.lib\n\ndeny contains lib.result(\"team.x\", \"m\", \"owner\") if input.model.owner == \"nobody\"\n")
		writeFile(t, dir, "policies/other.rego", "package slipway\n\nevaluation_helper := 1\n")
		newEngine(t, dir)
	})
}

// TestSandboxRefusesBuiltins checks that no policy can reach the network,
// the clock or randomness: a call to such a builtin is a load error naming
// the file, the line and the builtin.
func TestSandboxRefusesBuiltins(t *testing.T) {
	for _, call := range []string{
		`http.send({"method": "GET", "url": "https://example.com"})`,
		`net.lookup_ip_addr("example.com")`,
		`net.cidr_contains("10.0.0.0/8", "10.1.2.3")`,
		`opa.runtime()`,
		`time.now_ns()`,
		`rand.intn("x", 10)`,
		`uuid.rfc4122("x")`,
		`io.jwt.decode_verify("a.b.c", {"secret": "s"})`,
	} {
		name, _, _ := strings.Cut(call, "(")
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := "package slipway.leak\n\n# reach out\ndeny contains {\"id\": \"leak.x\", \"msg\": sprintf(\"%v\", [x])} if {\n\tx := " + call + "\n}\n"
			writeFile(t, dir, "policies/leak.rego", src)
			_, err := New(context.Background(), dir)
			if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), "policies/leak.rego:5: "+name+" is not allowed") {
				t.Errorf("err = %v, want a load error at policies/leak.rego:5 refusing %s", err, name)
			}
		})
	}
}

// TestPolicyTimeout checks that an evaluation running past policy.timeout
// stops and denies as policy.error.
func TestPolicyTimeout(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "policies/slow.rego", `package slipway.slow

deny contains {"id": "slow.x", "msg": "never"} if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i == j + 200000
}
`)
	e := newEngine(t, dir)
	in := fixture(t)
	in.Platform.Policy.Timeout = "200ms"
	done := make(chan []Result, 1)
	go func() { done <- e.Evaluate(context.Background(), nil, in) }()
	select {
	case rs := <-done:
		var errs []string
		for _, r := range rs {
			if r.Rule == RulePolicyError && r.Outcome == OutcomeDeny {
				errs = append(errs, r.Message)
			}
		}
		if len(errs) != 1 || !strings.Contains(errs[0], "policy slipway.slow: evaluation exceeded policy.timeout (200ms)") {
			t.Errorf("policy.error results %q, want one naming slipway.slow and the timeout", errs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("evaluation still running after 30s: policy.timeout 200ms not applied")
	}
}

// TestStrictBuiltinErrors checks that a builtin's error is policy.error,
// never a rule that silently does not fire.
func TestStrictBuiltinErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "policies/strict.rego", `package slipway.strict

deny contains {"id": "strict.x", "msg": "too small"} if to_number("abc") < 1000
`)
	e := newEngine(t, dir)
	rs := e.Evaluate(context.Background(), nil, fixture(t))
	got := outcomes(rs)
	if got[RulePolicyError] != OutcomeDeny || Verdict(rs) != OutcomeDeny {
		t.Errorf("policy.error %q, verdict %s; want deny, deny", got[RulePolicyError], Verdict(rs))
	}
}
