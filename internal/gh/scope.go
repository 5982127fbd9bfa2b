package gh

import (
	"context"
	"sort"

	"github.com/slipway-ml/slipway/internal/changes"
	"github.com/slipway-ml/slipway/internal/policy"
)

// Scope is what a pull request contributes to a check: the files it
// changes (the same role as --base) and its standing approvals, with the
// CODEOWNERS owners of each changed file. Paths are relative to the
// platform repository, which may sit in a subdirectory of the git
// repository (PathPrefix); GitHub's own top-level paths never leave Scope.
type Scope struct {
	PR      int    `json:"pr"`
	HeadSHA string `json:"head_sha"`
	BaseRef string `json:"base_ref"`
	// BaseSHA is the base commit: the specs a change is judged against
	// (thresholds it loosens, the security owners and trusted keys) are
	// read there, out of the pull request's reach.
	BaseSHA string `json:"base_sha"`
	Fork    bool   `json:"fork"`
	// PathPrefix is the platform directory under the checkout ("" when the
	// platform is the checkout).
	PathPrefix changes.Prefix `json:"path_prefix"`
	// ChangedFiles are the changed files inside the platform, nil when the
	// change is not known (a direct push, more files than GitHub lists, an
	// API failure): the check then judges every model.
	ChangedFiles []string `json:"changed_files"`
	// OutsideFiles are changed files outside the platform, relative to the
	// git top level (Slipway's own modules count there).
	OutsideFiles []string          `json:"outside_files,omitempty"`
	Approvals    []policy.Approval `json:"approvals"`
	// Authors are the pull request's author and its commits' authors,
	// whose approvals do not count; nil when not known.
	Authors []string `json:"authors"`
	// CodeOwners maps each owned changed file to its owners.
	CodeOwners map[string][]string `json:"code_owners"`
	// OwnerApprovals lists the owners of changed files who approved.
	OwnerApprovals []string `json:"owner_approvals"`
	// OwnedFiles are the changed files with owners and those owners'
	// approvals, for the policy input; nil when CODEOWNERS was not read.
	OwnedFiles []policy.CodeOwnedFile `json:"owned_files"`
	// DirOwners stands in for OwnedFiles when the changed files are not
	// known: the owners of a model's directory (platform-relative) and
	// their approvals, so CODEOWNERS is enforced on every model judged
	// rather than on none. Nil when the files are known or CODEOWNERS was
	// not read.
	DirOwners func(dir string) *policy.CodeOwnedFile `json:"-"`
	// Problems say what could not be read and what was assumed instead.
	Problems []string `json:"problems,omitempty"`
}

// Scope reads the pull request the job runs for (on push, the pull request
// merged as the commit; none for a direct push, with a problem saying so).
//
// GitHub failing to answer (rate limits past the longest wait, malformed
// answers, the --github-timeout deadline) never costs the check its
// verdict: unknown changed files judge every model, as for a pull request
// over GitHub's 3,000-file limit; unknown reviews count no approval, so
// rules that need one deny. Each such fallback is in Problems and logged.
// Only the caller's own cancellation is returned as an error.
func (c *Context) Scope(ctx context.Context) (*Scope, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	s := &Scope{PR: c.PR, HeadSHA: c.HeadSHA, BaseRef: c.BaseRef, BaseSHA: c.BaseSHA, Fork: c.Fork, PathPrefix: c.PathPrefix,
		Approvals: []policy.Approval{}, CodeOwners: map[string][]string{}, OwnerApprovals: []string{}}
	// fallback records a failure the check goes on without, unless the
	// caller gave up (Ctrl-C), which ends the check.
	fallback := func(err error, assumed string) error {
		if ctx.Err() != nil && !pastDeadline(ctx) {
			return err
		}
		s.Problems = append(s.Problems, err.Error()+": "+assumed)
		c.log.Warn("github: "+assumed, "error", err)
		return nil
	}
	if c.PR == 0 {
		// On push to main: the pull request merged as this commit, whose
		// reviews a release is judged on.
		if err := c.ResolvePullRequest(ctx); err != nil {
			if err := fallback(err, "judging every model, with no approvals"); err != nil {
				return nil, err
			}
			return s, nil
		}
		s.PR, s.BaseRef, s.BaseSHA = c.PR, c.BaseRef, c.BaseSHA
	}
	if c.PR == 0 {
		s.Problems = append(s.Problems, "commit "+c.HeadSHA+" was pushed without a pull request: no changed files or approvals from GitHub")
		return s, nil
	}
	top, err := c.ChangedFiles(ctx)
	if err != nil {
		// Judge everything rather than guess at the change.
		if err := fallback(err, "judging every model"); err != nil {
			return nil, err
		}
	} else {
		s.ChangedFiles = []string{}
		for _, f := range top {
			if rel, ok := c.PathPrefix.Rel(f); ok {
				s.ChangedFiles = append(s.ChangedFiles, rel)
			} else {
				s.OutsideFiles = append(s.OutsideFiles, f)
			}
		}
	}
	approvals, err := c.Approvals(ctx)
	if err != nil {
		if err := fallback(err, "no approval counts"); err != nil {
			return nil, err
		}
	}
	if approvals != nil {
		s.Approvals = approvals
	}
	if len(s.Approvals) > 0 {
		authors, err := c.Authors(ctx)
		if err != nil {
			// Approvals are counted only from people known not to have
			// written the change: none, when the authors are unknown.
			if err := fallback(err, "the authors are unknown: no approval counts"); err != nil {
				return nil, err
			}
			s.Approvals, approvals = []policy.Approval{}, nil
		} else {
			s.Authors = authors
		}
	} else {
		s.Authors = []string{}
	}
	co, err := c.CodeOwners(ctx)
	if err != nil {
		if err := fallback(err, "CODEOWNERS not read: each model's owners are unknown and have not approved"); err != nil {
			return nil, err
		}
		// Unknown owners cannot have approved: release.code_owners
		// denies rather than passing on nothing.
		s.DirOwners = func(dir string) *policy.CodeOwnedFile {
			return &policy.CodeOwnedFile{File: dir + "/", Owners: []string{"(unknown: CODEOWNERS not read)"}, ApprovedBy: []string{}}
		}
		return s, nil
	}
	s.Problems = append(s.Problems, co.Problems...)
	// Team owners count through their members' approvals when the token
	// may read the team (a job's GITHUB_TOKEN may not).
	teams := map[string][]string{}
	resolve := func(ctx context.Context, owners []string) { c.resolveTeams(ctx, owners, teams) }
	if s.ChangedFiles == nil {
		// CODEOWNERS patterns match top-level paths. Teams are resolved
		// now, while GitHub's time lasts; a team owner of a directory
		// no changed file named stays pending.
		for _, r := range co.Rules {
			resolve(ctx, r.Owners)
		}
		s.DirOwners = func(dir string) *policy.CodeOwnedFile {
			owners := co.Owners(c.PathPrefix.Top(dir))
			if len(owners) == 0 {
				return nil
			}
			approved, _ := ApprovedBy(owners, approvals, teams)
			return &policy.CodeOwnedFile{File: dir + "/ (every file: the pull request's files are unknown)", Owners: owners, ApprovedBy: append([]string{}, approved...)}
		}
		return s, nil
	}
	for _, f := range s.ChangedFiles {
		if owners := co.Owners(c.PathPrefix.Top(f)); len(owners) > 0 {
			s.CodeOwners[f] = owners
			resolve(ctx, owners)
		}
	}
	seen := map[string]bool{}
	s.OwnedFiles = []policy.CodeOwnedFile{}
	files := make([]string, 0, len(s.CodeOwners))
	for f := range s.CodeOwners {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		owners := s.CodeOwners[f]
		approved, _ := ApprovedBy(owners, approvals, teams)
		s.OwnedFiles = append(s.OwnedFiles, policy.CodeOwnedFile{File: f, Owners: owners, ApprovedBy: append([]string{}, approved...)})
		for _, a := range approved {
			if !seen[a] {
				seen[a] = true
				s.OwnerApprovals = append(s.OwnerApprovals, a)
			}
		}
	}
	sort.Strings(s.OwnerApprovals)
	return s, nil
}
