package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIndependent(t *testing.T) {
	rita := Approval{User: "Rita", State: "APPROVED", SubmittedAt: "2026-11-20T11:00:00Z"}
	alice := Approval{User: "alice", State: "APPROVED", SubmittedAt: "2026-11-20T10:00:00Z"}
	tests := []struct {
		name      string
		approvals []Approval
		authors   []string
		want      []Approval
	}{
		{name: "none wrote the change", approvals: []Approval{alice, rita}, authors: []string{"erin"}, want: []Approval{alice, rita}},
		// Logins compare without case, as on GitHub.
		{name: "an approver wrote a commit", approvals: []Approval{alice, rita}, authors: []string{"erin", "rita"}, want: []Approval{alice}},
		{name: "authors unknown", approvals: []Approval{alice, rita}, authors: nil, want: nil},
		{name: "no approvals", approvals: nil, authors: []string{"erin"}, want: []Approval{}},
		{name: "not an approval", approvals: []Approval{{User: "bob", State: "CHANGES_REQUESTED"}}, authors: []string{}, want: []Approval{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Independent(tt.approvals, tt.authors)); diff != "" {
				t.Errorf("Independent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAcceptingSkipsAuthors(t *testing.T) {
	early := Approval{User: "Bob", State: "APPROVED", SubmittedAt: "2026-11-20T09:00:00Z"}
	late := Approval{User: "carol", State: "APPROVED", SubmittedAt: "2026-11-20T12:00:00Z"}
	members := []string{"bob", "carol"}
	if diff := cmp.Diff(&early, Accepting(members, []Approval{late, early}, []string{"erin"})); diff != "" {
		t.Errorf("earliest member's approval (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&late, Accepting(members, []Approval{late, early}, []string{"bob"})); diff != "" {
		t.Errorf("an author's approval accepts (-want +got):\n%s", diff)
	}
	if got := Accepting(members, []Approval{late, early}, nil); got != nil {
		t.Errorf("authors unknown: accepted by %v, want nobody", got)
	}
}
