package gh

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"
)

// CodeOwners is a parsed CODEOWNERS file. As on GitHub, the last rule whose
// pattern matches a path decides its owners, and a rule without owners
// leaves the path unowned.
type CodeOwners struct {
	// Path is where the file was found; empty when there is none.
	Path  string
	Rules []OwnerRule
	// Problems lists lines GitHub would ignore too, as "PATH:LINE: why".
	Problems []string
}

// OwnerRule is one line of CODEOWNERS.
type OwnerRule struct {
	Pattern string
	Owners  []string // @user, @org/team or an email address
	Line    int
	re      *regexp.Regexp
}

// ParseCodeOwners parses CODEOWNERS text; path names the file in problems.
func ParseCodeOwners(path, text string) *CodeOwners {
	co := &CodeOwners{Path: path}
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if j := commentStart(line); j >= 0 {
			line = strings.TrimSpace(line[:j])
		}
		fields := strings.Fields(line)
		pattern := strings.ReplaceAll(fields[0], `\#`, "#")
		rule := OwnerRule{Pattern: pattern, Line: i + 1}
		bad := ""
		for _, o := range fields[1:] {
			if !strings.HasPrefix(o, "@") && !strings.Contains(o, "@") {
				bad = fmt.Sprintf("owner %q is not @user, @org/team or an email", o)
				break
			}
			rule.Owners = append(rule.Owners, o)
		}
		if bad == "" {
			var err error
			if rule.re, err = patternRE(pattern); err != nil {
				bad = err.Error()
			}
		}
		if bad != "" {
			co.Problems = append(co.Problems, fmt.Sprintf("%s:%d: %s", path, i+1, bad))
			continue
		}
		co.Rules = append(co.Rules, rule)
	}
	return co
}

// commentStart finds an unescaped # that starts a trailing comment.
func commentStart(line string) int {
	for i := 1; i < len(line); i++ {
		if line[i] == '#' && line[i-1] != '\\' && (line[i-1] == ' ' || line[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// patternRE translates a CODEOWNERS pattern (gitignore syntax without
// negation or character ranges) to a regular expression over
// repo-relative paths.
func patternRE(p string) (*regexp.Regexp, error) {
	if strings.HasPrefix(p, "!") {
		return nil, fmt.Errorf("pattern %q: negation is not supported by CODEOWNERS", p)
	}
	if strings.ContainsAny(p, "[]") {
		return nil, fmt.Errorf("pattern %q: character ranges are not supported by CODEOWNERS", p)
	}
	dirOnly := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	// A slash anywhere but the end anchors the pattern at the root;
	// otherwise it matches at any depth.
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	var b strings.Builder
	if anchored {
		b.WriteString("^")
	} else {
		b.WriteString("^(?:.*/)?")
	}
	for i := 0; i < len(p); {
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 3
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i += 2
		case p[i] == '*':
			b.WriteString("[^/]*")
			i++
		case p[i] == '?':
			b.WriteString("[^/]")
			i++
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
			i++
		}
	}
	switch {
	case dirOnly:
		b.WriteString("/.*$")
	case strings.HasSuffix(p, "*") && !strings.HasSuffix(p, "**"):
		// GitHub: "docs/*" owns docs/a.md but not docs/sub/b.md.
		b.WriteString("$")
	default:
		// A pattern naming a directory owns everything below it.
		b.WriteString("(?:/.*)?$")
	}
	return regexp.Compile(b.String())
}

// Owners returns the owners of a repo-relative path, nil when unowned.
func (co *CodeOwners) Owners(path string) []string {
	if co == nil {
		return nil
	}
	path = strings.TrimPrefix(path, "/")
	for i := len(co.Rules) - 1; i >= 0; i-- {
		if co.Rules[i].re.MatchString(path) {
			return co.Rules[i].Owners
		}
	}
	return nil
}

// OwnersOf maps each path to its owners, leaving unowned paths out.
func (co *CodeOwners) OwnersOf(paths []string) map[string][]string {
	out := map[string][]string{}
	for _, p := range paths {
		if o := co.Owners(p); len(o) > 0 {
			out[p] = o
		}
	}
	return out
}

// ApprovedBy reports which owners of the paths have approved: an owner
// counts when it is a user among the approvals (logins compare without case,
// as on GitHub). Team owners cannot be resolved with a job's token and are
// returned in pending unless a member's approval is passed in teams.
func ApprovedBy(owners []string, approvals []Approval, teams map[string][]string) (approved, pending []string) {
	users := map[string]bool{}
	for _, a := range approvals {
		users[strings.ToLower(a.User)] = true
	}
	for _, o := range owners {
		ok := false
		name := strings.TrimPrefix(o, "@")
		if strings.Contains(name, "/") {
			for _, m := range teams[o] {
				ok = ok || users[strings.ToLower(m)]
			}
		} else {
			ok = users[strings.ToLower(name)]
		}
		if ok {
			approved = append(approved, o)
		} else {
			pending = append(pending, o)
		}
	}
	sort.Strings(approved)
	sort.Strings(pending)
	return approved, pending
}

// ApprovedOwners returns those of owners (logins, or teams as @org/team,
// a team counting when one of its members approved) who are among the
// approvals. A team the token may not read counts no approval.
func (c *Context) ApprovedOwners(ctx context.Context, owners []string, approvals []Approval) []string {
	teams := map[string][]string{}
	c.resolveTeams(ctx, owners, teams)
	approved, _ := ApprovedBy(owners, approvals, teams)
	return append([]string{}, approved...)
}

// resolveTeams adds the members of each team among owners not yet in
// teams; a team the token may not read (a job's GITHUB_TOKEN may not) gets
// no members, so its members' approvals do not count for it.
func (c *Context) resolveTeams(ctx context.Context, owners []string, teams map[string][]string) {
	for _, owner := range owners {
		if _, done := teams[owner]; done || !strings.Contains(owner, "/") {
			continue
		}
		members, err := c.TeamMembers(ctx, owner)
		if err != nil {
			c.log.Info("github: team owner not resolved; its members' approvals do not count for it", "team", owner, "error", err)
		}
		teams[owner] = members
	}
}

// AcceptanceTeamMembers lists the members of a model's acceptance team
// (handover.acceptance.team): @org/team as in CODEOWNERS, or a bare team
// name, a team of the repository's owner.
func (c *Context) AcceptanceTeamMembers(ctx context.Context, team string) ([]string, error) {
	if !strings.Contains(team, "/") {
		team = "@" + c.Owner + "/" + strings.TrimPrefix(team, "@")
	}
	return c.TeamMembers(ctx, team)
}

// TeamMembers lists the logins of an @org/team owner. The job's
// GITHUB_TOKEN cannot read organisation teams (GitHub answers 403 or 404);
// a token with members:read can.
func (c *Context) TeamMembers(ctx context.Context, team string) ([]string, error) {
	org, slug, ok := strings.Cut(strings.TrimPrefix(team, "@"), "/")
	if !ok || org == "" || slug == "" {
		return nil, fmt.Errorf("team %q: want @org/team", team)
	}
	var out []string
	opts := &github.TeamListTeamMembersOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.client.Teams.ListTeamMembersBySlug(ctx, org, slug, opts)
		if err != nil {
			return nil, fmt.Errorf("members of %s: %w", team, err)
		}
		for _, u := range page {
			out = append(out, u.GetLogin())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.Strings(out)
	return out, nil
}
