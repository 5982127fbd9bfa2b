package gh

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClipIssue(t *testing.T) {
	body := "```\n" + strings.Repeat("production/credit-default drifted: é\n", 5000) + "```\n"
	got := clipIssue(body)
	if len(got) > 65536 {
		t.Fatalf("%d bytes, over GitHub's limit", len(got))
	}
	if strings.Count(got, "```")%2 != 0 {
		t.Error("the code block was left open")
	}
	if short := "no drift\n"; clipIssue(short) != short {
		t.Error("a short body was changed")
	}
}

func TestIssueBody(t *testing.T) {
	tests := []struct {
		name, runURL, text string
		markdown           bool
		want               string
	}{
		{"markdown as is", "", "# Drift\n", true, "# Drift\n"},
		{"text as a code block", "", "a ``` b", false, "```\na ''' b\n```\n"},
		{"signed with the run", "https://github.com/o/r/actions/runs/1", "x\n", true,
			"x\n\n<sub>Updated by [this run](https://github.com/o/r/actions/runs/1).</sub>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Context{RunURL: tt.runURL}
			if d := cmp.Diff(tt.want, c.IssueBody(tt.text, tt.markdown)); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
}
