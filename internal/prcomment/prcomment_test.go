package prcomment

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/markdown"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testOptions = Options{
	RepoURL: "https://github.com/acme/credit-risk",
	RunURL:  "https://github.com/acme/credit-risk/actions/runs/42",
}

func load(t testing.TB, name string) *Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := checkresult.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got), rerun with -update if intended:\n%s", name, diff)
	}
}

func TestGolden(t *testing.T) {
	// pass and deny are hand-made to reach every part of the report;
	// example-pass and example-deny are real `slipway check --format json`
	// output for examples/credit-risk (staging only, and with credit-default's
	// roc_auc minimum raised to 0.99 and checked with --base).
	for _, name := range []string{"pass", "deny", "example-pass", "example-deny"} {
		t.Run(name, func(t *testing.T) {
			r := load(t, name+".json")
			golden(t, name+".comment.md", Markdown(r, testOptions))
			golden(t, name+".summary.md", Summary(r, testOptions))
			var b strings.Builder
			fmt.Fprintf(&b, "title: %s\nconclusion: %s\n", Title(r), Conclusion(r.Verdict))
			for _, a := range Annotations(r, testOptions) {
				fmt.Fprintf(&b, "%s %s:%d-%d %q %q\n", a.Level, a.Path, a.StartLine, a.EndLine, a.Title, a.Message)
			}
			golden(t, name+".annotations.txt", b.String())
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":      `{`,
		"bad verdict":   `{"verdict":"maybe"}`,
		"unit no model": `{"verdict":"pass","units":[{"environment":"staging"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := checkresult.Decode([]byte(doc)); err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
		})
	}
}

func TestSecretsNeverRendered(t *testing.T) {
	// The check result carries a plan's attribute values (redacted by the
	// plan summary) and the rendered deployment; the comment shows only
	// attribute names, never values, so a value that slipped through the
	// summary still does not reach the pull request.
	const secret = "tok-9f8e7d6c5b4a-SECRET"
	r := load(t, "deny.json")
	res := &r.Units[0].Plan.Resources[3]
	res.Changed = []string{"input.token"}
	res.Diff = []checkresult.AttrDiff{{Path: "input.token", Before: []byte(`"old-` + secret + `"`), After: []byte(`"` + secret + `"`)}}
	r.Units[0].Plan.Deployment = []byte(`{"env":{"API_TOKEN":"` + secret + `"}}`)
	md := Markdown(r, testOptions)
	if !strings.Contains(md, "input.token") {
		t.Fatal("changed attribute name missing")
	}
	rendered := map[string]string{"comment": md, "summary": Summary(r, testOptions)}
	for i, a := range Annotations(r, testOptions) {
		rendered[fmt.Sprintf("annotation %d", i)] = a.Title + "\n" + a.Message
	}
	for what, text := range rendered {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows the secret value", what)
		}
	}
}

func TestPathPrefix(t *testing.T) {
	r := load(t, "deny.json")
	o := testOptions
	o.PathPrefix = "examples/credit-risk"
	if a := Annotations(r, o)[0]; a.Path != "examples/credit-risk/environments.cue" {
		t.Errorf("annotation path = %s", a.Path)
	}
	md := Markdown(r, o)
	if !strings.Contains(md, "[`environments.cue:17`](https://github.com/acme/credit-risk/blob/a1b2c3d4e5f60718293a4b5c6d7e8f9012345678/examples/credit-risk/environments.cue#L17)") {
		t.Error("links must use top-level paths and show platform paths")
	}
}

func TestMentionsDoNotNotify(t *testing.T) {
	r := load(t, "deny.json")
	r.Units[0].Results[0].Message = "ask @risk-lead or @acme/model-risk; mail ops@acme.example"
	md := Markdown(r, testOptions)
	for _, bad := range []string{" @risk-lead", " @acme/model-risk"} {
		if strings.Contains(md, bad) {
			t.Errorf("%q would notify", bad)
		}
	}
	if !strings.Contains(md, "@\u200drisk-lead") || !strings.Contains(md, "ops@acme.example") {
		t.Error("mentions must stay readable")
	}
}

// TestHostileNames puts names and messages a pull request's author
// controls into every part of the comment: none may leave its code span
// or cell, open HTML, or become a link or an image.
func TestHostileNames(t *testing.T) {
	r := load(t, "deny.json")
	const img = "`<img src=x onerror=alert(1)>`"
	u := &r.Units[0]
	u.Model = "credit" + img
	u.Environment = "prod|uction" + img
	u.ModelVersion = "1.0 ![v](https://evil.example/v.png)"
	u.Results[0].Message = "![pixel](https://evil.example/p.png) [click](https://evil.example) " + img
	u.Results[0].Rule = "rule``" + img
	u.Results[0].Pos.File = "x) ![i](https://evil.example/i.png"
	if u.Evidence != nil {
		for name, v := range u.Evidence.Headline {
			u.Evidence.Headline["latency_slo"+img+"|"] = v
			delete(u.Evidence.Headline, name)
			break
		}
	}
	if u.Plan != nil {
		u.Plan.Stack = "s</code></summary><img src=x>"
	}
	for name, md := range map[string]string{"comment": Markdown(r, testOptions), "summary": Summary(r, testOptions)} {
		// Inside a code span nothing is markup; outside, nothing may be.
		md := markdown.WithoutCodeSpans(md)
		for _, bad := range []string{"<img", "![", "](https://evil", "</code></summary><"} {
			if strings.Contains(md, bad) {
				i := strings.Index(md, bad)
				t.Errorf("%s: %q got through: …%s…", name, bad, md[max(0, i-80):min(len(md), i+80)])
			}
		}
		// Every table row keeps its column count.
		for _, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") > 10 {
				t.Errorf("%s: a pipe split a cell: %s", name, line)
			}
		}
	}
}

// TestNotCountedApprovals: the comment says which approvals were not
// counted and why (release.self_approval names each, release.approvals
// counts without them), for the reviewers to see.
func TestNotCountedApprovals(t *testing.T) {
	r := load(t, "deny.json")
	u := &r.Units[0]
	u.Results = append(u.Results,
		checkresult.Finding{Rule: "release.self_approval", Severity: "warn", Outcome: "warn",
			Message: "the approval by mallory is not counted: mallory wrote the change (the pull request or one of its commits)"},
		checkresult.Finding{Rule: "release.approvals", Severity: "deny", Outcome: "deny",
			Message: "environment production needs 2 approval(s), 1 recorded; not counted: mallory (authors of the change)"})
	md := Markdown(r, testOptions)
	for _, want := range []string{
		"| ⚠️ warn | `release.self_approval` | the approval by mallory is not counted: mallory wrote the change (the pull request or one of its commits) |",
		"| ❌ deny | `release.approvals` | environment production needs 2 approval(s), 1 recorded; not counted: mallory (authors of the change) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q:\n%s", want, md)
		}
	}
}

// TestWriteBaseline checks that the comment tells a declared baseline
// from a measured one and says when there is none yet (issue 12).
func TestWriteBaseline(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Evidence
		want string
	}{
		{"declared", Evidence{BaselineSource: checkresult.BaselineDeclared}, "<sub>Baseline *declared* in the spec, not measured.</sub>\n\n"},
		{"measured", Evidence{BaselineSource: checkresult.BaselineMeasured, BaselineFrom: "models/m/champion.csv"}, "<sub>Baseline: measured by Slipway on the champion's predictions models/m/champion.csv.</sub>\n\n"},
		{"first release", Evidence{BaselineSource: checkresult.BaselineNone}, "<sub>Baseline: no baseline yet: the first release of the model in production.</sub>\n\n"},
		{"no evidence of a baseline", Evidence{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeBaseline(&b, &tc.e, "production")
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
