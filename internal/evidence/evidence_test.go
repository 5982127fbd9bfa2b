package evidence

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/spec"
)

// copyExample copies the example platform into a temp dir so tests can
// break its evidence without touching the repository.
func copyExample(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", "credit-risk")
	if _, err := os.Stat(src); err != nil {
		t.Skip("examples/credit-risk not present")
	}
	dst := t.TempDir()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			if info.Name() == ".slipway" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }

func TestEvaluateExample(t *testing.T) {
	dir := copyExample(t)
	ctx := context.Background()
	p, err := spec.Load(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Evaluate(ctx, p, "credit-default", Options{Now: fixedNow, SlipwayVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Problems) != 0 {
		t.Fatalf("problems: %+v", s.Problems)
	}
	if s.Evaluation == nil || s.Evaluation.Rows == 0 {
		t.Fatal("no evaluation")
	}
	if _, ok := s.Evaluation.Overall.Get("roc_auc"); !ok {
		t.Error("no roc_auc")
	}
	for _, attr := range []string{"sex", "age_band"} {
		if _, ok := s.Evaluation.Fairness[attr]; !ok {
			t.Errorf("no fairness for %s", attr)
		}
	}
	if s.Gold == nil || s.Gold.SnapshotSHA256 != s.Gold.DeclaredVersion {
		t.Errorf("gold %+v", s.Gold)
	}
	if diff := cmp.Diff([]string{"credit-default runbook", "Overview", "Alerts", "Diagnosis", "Rollback", "Contacts"}, s.Runbook.Sections); diff != "" {
		t.Errorf("runbook (-want +got):\n%s", diff)
	}
	if len(s.Tests.Suites) == 0 || s.Data.Drift == nil || len(s.Data.Sources) == 0 {
		t.Errorf("tests %v drift %v sources %v", s.Tests.Suites, s.Data.Drift, s.Data.Sources)
	}
	paths := map[string]bool{}
	for _, in := range s.Inputs {
		if !strings.HasPrefix(in.SHA256, "sha256:") {
			t.Errorf("input %+v", in)
		}
		paths[in.Path] = true
	}
	for _, want := range []string{"models/credit-default/evidence/predictions.csv", "models/credit-default/evidence/junit.xml", "models/credit-default/RUNBOOK.md", "data/snapshots/applications-gold.csv"} {
		if !paths[want] {
			t.Errorf("inputs lack %s", want)
		}
	}
}

func TestProblemsNotFailures(t *testing.T) {
	dir := copyExample(t)
	ctx := context.Background()
	p, err := spec.Load(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models["credit-default"]
	os.Remove(filepath.Join(dir, m.Tests.Reports[0]))
	os.Remove(filepath.Join(dir, m.Handover.Runbook))
	if err := os.WriteFile(filepath.Join(dir, m.Evaluation.Predictions), []byte("defaulted,score\n1,0.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	sums, err := WriteAll(ctx, p, work, []string{"credit-default"}, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	got := sums[0].Problems
	want := []Problem{
		{Kind: KindPredictions, Path: m.Evaluation.Predictions, Message: `models/credit-default/evidence/predictions.csv: header (line 1), column "predicted_default": column not found (columns: defaulted, score)`},
		{Kind: KindTests, Path: m.Tests.Reports[0], Message: "file does not exist"},
		{Kind: KindRunbook, Path: m.Handover.Runbook, Message: "file does not exist"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	back, err := Read(Path(work, "credit-default"))
	if err != nil {
		t.Fatal(err)
	}
	if back.Evaluation != nil || back.Runbook.Exists || len(back.Problems) != 3 {
		t.Errorf("written summary: %+v", back)
	}
}

func TestHeadings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.md")
	os.WriteFile(p, []byte("# Title\n\nText\n## Overview ##\n```\n## not a heading\n```\n### Deeper\n    ## indented code\n##NoSpace\n## Contacts\n"), 0o644)
	got, err := Headings(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Title", "Overview", "Contacts"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestReadRunbook(t *testing.T) {
	p := filepath.Join(t.TempDir(), "RUNBOOK.md")
	text := "TODO(slipway): title\n# Overview\nScores applications.\n\n## Rollback\nRun `slipway rollback --env production`.\n- TODO(slipway)\n```\n# not a heading\n```\n## Diagnosis\n- **MODEL_TIMEOUT**: inference slow.\n## Empty\n---\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := readRunbook(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []Section
	for _, s := range doc.sections {
		got = append(got, s.Section)
	}
	want := []Section{
		{Title: "Overview", Words: 2},
		{Title: "Rollback", Words: 9, Placeholders: 1},
		{Title: "Diagnosis", Words: 3},
		{Title: "Empty", Words: 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("sections (-want +got):\n%s", d)
	}
	if doc.preamble != 1 {
		t.Errorf("preamble placeholders = %d, want 1", doc.preamble)
	}
	for _, tt := range []struct {
		code string
		want bool
	}{{"MODEL_TIMEOUT", true}, {"TIMEOUT", false}, {"MODEL", false}, {"Scores", true}, {"", false}} {
		if got := containsWord(doc.all, tt.code); got != tt.want {
			t.Errorf("containsWord(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

// TestMinGroupSizeFromPlatform: a model whose fairness block sets no
// minGroupSize has its groups judged by the platform's, here 50: a group
// of 40 rows is excluded from the fairness gaps, as it is not when the
// model sets 30 of its own. (The schema's default of 30 once filled in the
// model's field and overrode the platform's.)
func TestMinGroupSizeFromPlatform(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("label,prediction,g\n")
	for i := range 140 {
		g := "a"
		if i >= 100 {
			g = "b"
		}
		fmt.Fprintf(&csv, "%d,%d,%s\n", i%2, (i/2)%2, g)
	}
	if err := os.WriteFile(filepath.Join(dir, "predictions.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		own  int
		want []metrics.ExcludedGroup
	}{
		{"platform's 50", 0, []metrics.ExcludedGroup{{Attribute: "g", Group: "b", Count: 40, Reason: "fewer than 50 rows (min group size)"}}},
		{"model's own 30", 30, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &spec.Platform{
				Root:   dir,
				Policy: spec.PolicyDefaults{MinGroupSize: 50},
				Models: map[string]spec.Model{"m": {
					Name: "m", Task: metrics.Binary,
					Evaluation: spec.Evaluation{Predictions: "predictions.csv", Columns: spec.Columns{Label: "label", Prediction: "prediction"}},
					Fairness:   &spec.Fairness{Sensitive: []string{"g"}, MinGroupSize: tc.own},
				}},
			}
			s, err := Evaluate(context.Background(), p, "m", Options{Now: fixedNow, Bootstrap: -1})
			if err != nil {
				t.Fatal(err)
			}
			if s.Evaluation == nil {
				t.Fatalf("no evaluation; problems %+v", s.Problems)
			}
			if d := cmp.Diff(tc.want, s.Evaluation.ExcludedGroups, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("excluded groups (-want +got):\n%s", d)
			}
		})
	}
}
