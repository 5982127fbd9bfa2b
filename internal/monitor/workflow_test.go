package monitor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/slipway-ml/slipway/internal/spec"
)

// TestExampleWorkflowFollowsSchedule checks that the example's scheduled
// monitoring workflow fires on exactly the monitoring.schedule of every
// model it monitors (those with a monitoring.source), so the two cannot
// drift apart: a model whose schedule the workflow does not follow goes
// stale and fails monitoring.fresh.
func TestExampleWorkflowFollowsSchedule(t *testing.T) {
	const repo = "../../examples/credit-risk"
	p, err := spec.Load(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range p.Models {
		if m.Monitoring.Source == nil {
			continue
		}
		if _, err := MaxGap(m.Monitoring.Schedule); err != nil {
			t.Errorf("%s: monitoring.schedule %q: %v", m.Name, m.Monitoring.Schedule, err)
		}
		if !slices.Contains(want, m.Monitoring.Schedule) {
			want = append(want, m.Monitoring.Schedule)
		}
	}
	if len(want) == 0 {
		t.Fatal("no model of the example has a monitoring.source")
	}
	slices.Sort(want)

	files, err := filepath.Glob(filepath.Join(repo, ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			On struct {
				Schedule []struct {
					Cron string `yaml:"cron"`
				} `yaml:"schedule"`
			} `yaml:"on"`
			Jobs map[string]struct {
				Steps []struct {
					Run string `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &wf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		monitors := false
		for _, j := range wf.Jobs {
			for _, s := range j.Steps {
				for _, line := range strings.Split(s.Run, "\n") {
					// A job that monitors one model with --model would
					// need its own schedule; the example monitors all.
					if l := strings.TrimSpace(line); strings.HasPrefix(l, "slipway monitor ") {
						monitors = true
						if strings.Contains(l, "--model") {
							t.Errorf("%s: %q monitors one model; the schedule check assumes every model", f, l)
						}
					}
				}
			}
		}
		if !monitors {
			continue
		}
		found = append(found, f)
		var got []string
		for _, s := range wf.On.Schedule {
			got = append(got, s.Cron)
		}
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: cron schedules (-monitoring.schedule of the monitored models +workflow):\n%s", f, d)
		}
	}
	if len(found) != 1 {
		t.Errorf("workflows running slipway monitor on a schedule: %q, want one", found)
	}
}
