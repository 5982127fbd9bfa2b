package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/gh"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/prcomment"
)

func newGitHubCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "github",
		Short: "Report to GitHub from a GitHub Actions job",
		Long: `The github commands talk to GitHub from a GitHub Actions job, using the job's
GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_SHA and GITHUB_API_URL
(GitHub Enterprise Server works). The token is never printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newGitHubReportCmd(o), newGitHubContextCmd(o), newGitHubIssueCmd(o))
	return cmd
}

// githubContext reads the job's environment; logs go to o.log and workflow
// commands to stderr, keeping stdout for results.
func githubContext(o *options) (*gh.Context, error) {
	return gh.FromEnv(o.getenv, gh.WithOutput(o.stderr), gh.WithLogger(o.log))
}

func newGitHubReportCmd(o *options) *cobra.Command {
	var repo, resultPath, markdownOut, format, sha, commentKey string
	var pr int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Post a check result on the pull request: sticky comment, check run, annotations",
		Long: `Report reads a check result (slipway check --format json, saved by check in
.slipway/check/result.json) and publishes it: one sticky comment on the pull
request, found again by a hidden marker and edited in place (split into numbered
comments over GitHub's 65,536-character limit), a check run named slipway with
an annotation on the spec line of each denial and warning (a commit status when
the token may not create check runs), and the job summary. The full Markdown is
written beside the result for the job's artifacts.

From a fork's pull request the token is read-only: the report then goes to the
job summary and workflow annotations, with a message saying so. A failure to
post is logged and never changes the exit code, which is the check's verdict:
1 when it denies, 0 otherwise.

--pr and --sha report on a pull request from another event, such as a
workflow_run job posting the result a fork's pull_request job uploaded. On
push, the report goes to a separate "after merge" comment on the pull request
merged as the commit, one per set of environments (--comment-key to choose).
--dry-run prints the comment's Markdown and posts nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(resultPath)
			if err != nil {
				return fmt.Errorf("read check result: %w", err)
			}
			res, err := checkresult.Decode(data)
			if err != nil {
				return fmt.Errorf("%s: %w", resultPath, err)
			}
			if markdownOut == "" {
				markdownOut = filepath.Join(filepath.Dir(resultPath), "comment.md")
			}
			if dryRun {
				opts := prcomment.Options{}
				if c, err := githubContext(o); err == nil {
					opts = prcomment.Options{RepoURL: c.RepoURL, Ref: c.HeadSHA, RunURL: c.RunURL, PathPrefix: gh.PlatformPrefix(o.getenv, repo)}
				}
				fmt.Fprint(o.stdout, prcomment.Markdown(res, opts))
				return verdictErr(res)
			}
			c, err := githubContext(o)
			if err != nil {
				return err
			}
			c.PathPrefix = gh.PlatformPrefix(o.getenv, repo)
			if cmd.Flags().Changed("pr") {
				c.PR = pr
			}
			if sha != "" {
				c.HeadSHA = sha
			}
			c.CommentKey = commentKey
			if c.PR == 0 {
				if err := c.ResolvePullRequest(cmd.Context()); err != nil {
					o.log.Warn("github: no pull request to comment on", "error", err)
				}
			}
			if err := atomicfile.WriteFile(markdownOut, []byte(c.Markdown(res)), 0o644); err != nil {
				o.log.Warn("github: full report not saved", "path", markdownOut, "error", err)
			}
			rep, err := c.Publish(cmd.Context(), data)
			if err != nil {
				o.log.Warn("github: report not fully posted; the verdict stands", "error", err)
			}
			if rep == nil {
				rep = &gh.Report{}
			}
			if format == "json" {
				if err := writeJSON(o.stdout, rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(o.stdout, "slipway %s: %s\n", res.Verdict, rep)
			}
			return verdictErr(res)
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().StringVar(&resultPath, "result", filepath.Join(".slipway", "check", "result.json"), "check result `FILE` (slipway check --format json)")
	cmd.Flags().StringVar(&markdownOut, "markdown-out", "", "where to write the full comment Markdown (default: comment.md beside --result)")
	cmd.Flags().IntVar(&pr, "pr", 0, "pull request `NUMBER` (default: from the event)")
	cmd.Flags().StringVar(&sha, "sha", "", "commit to report on (default: the pull request head, else GITHUB_SHA)")
	cmd.Flags().StringVar(&commentKey, "comment-key", "", "name of the sticky comment (default: the check's on pull requests, \"merged-ENVS\" after merge)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the comment Markdown instead of posting")
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func verdictErr(res *prcomment.Result) error {
	if res.Verdict == prcomment.Deny {
		return fmt.Errorf("check result: %w", ErrDenied)
	}
	return nil
}

// githubScope is what a pull request contributes to a check: the files it
// changes (the same role as --base) and its standing approvals, with the
// CODEOWNERS owners of each changed file.
type githubScope struct {
	Context *gh.Context `json:"-"`
	PR      int         `json:"pr"`
	HeadSHA string      `json:"head_sha"`
	BaseRef string      `json:"base_ref"`
	Fork    bool        `json:"fork"`
	// PathPrefix is the platform directory under the checkout, the prefix
	// changes.Classify takes ("" when the platform is the checkout).
	PathPrefix string `json:"path_prefix"`
	// ChangedFiles is nil when no pull request is known (a direct push).
	ChangedFiles []string            `json:"changed_files"`
	Approvals    []gh.Approval       `json:"approvals"`
	CodeOwners   map[string][]string `json:"code_owners"`
	// OwnerApprovals lists the owners of changed files who approved.
	OwnerApprovals []string `json:"owner_approvals"`
	// OwnedFiles are the changed files with owners and those owners'
	// approvals, for the policy input; nil when CODEOWNERS was not read.
	OwnedFiles []policy.CodeOwnedFile `json:"owned_files"`
	Problems   []string               `json:"problems,omitempty"`
}

// loadGitHubScope reads the pull request a GitHub Actions job runs for (on
// push, the pull request merged as the commit; none for a direct push, with
// a problem saying so);
// repo is the platform directory (--repo). The check command calls it for
// --github: ChangedFiles and PathPrefix go to changes.Classify (paths are
// relative to the git top level) and Approvals into the policy input's
// "approvals".
func loadGitHubScope(ctx context.Context, o *options, repo string) (*githubScope, error) {
	c, err := githubContext(o)
	if err != nil {
		return nil, err
	}
	c.PathPrefix = gh.PlatformPrefix(o.getenv, repo)
	s := &githubScope{Context: c, PR: c.PR, HeadSHA: c.HeadSHA, BaseRef: c.BaseRef, Fork: c.Fork, PathPrefix: c.PathPrefix,
		ChangedFiles: []string{}, Approvals: []gh.Approval{}, CodeOwners: map[string][]string{}, OwnerApprovals: []string{}}
	if c.PR == 0 {
		// On push to main: the pull request merged as this commit, whose
		// reviews a release is judged on.
		if err := c.ResolvePullRequest(ctx); err != nil {
			return nil, err
		}
		s.PR, s.BaseRef = c.PR, c.BaseRef
	}
	if c.PR == 0 {
		// nil, not empty: nothing is known about the change, so the check
		// falls back to --base or judges everything.
		s.ChangedFiles = nil
		s.Problems = append(s.Problems, "commit "+c.HeadSHA+" was pushed without a pull request: no changed files or approvals from GitHub")
		return s, nil
	}
	if s.ChangedFiles, err = c.ChangedFiles(ctx); errors.Is(err, gh.ErrTooManyFiles) {
		// Judge everything rather than a partial list of changes.
		s.ChangedFiles = nil
		s.Problems = append(s.Problems, err.Error()+": judging every model")
		o.log.Warn("github: "+err.Error()+"; judging every model", "pr", c.PR)
	} else if err != nil {
		return nil, err
	}
	if s.Approvals, err = c.Approvals(ctx); err != nil {
		return nil, err
	}
	if s.Approvals == nil {
		s.Approvals = []gh.Approval{}
	}
	co, err := c.CodeOwners(ctx)
	if err != nil {
		// Approvals still count without owners; say what is missing.
		s.Problems = append(s.Problems, err.Error())
		o.log.Warn("github: CODEOWNERS not read", "error", err)
		return s, nil
	}
	s.Problems = append(s.Problems, co.Problems...)
	s.CodeOwners = co.OwnersOf(s.ChangedFiles)
	// Team owners count through their members' approvals when the token
	// may read the team (a job's GITHUB_TOKEN may not).
	teams := map[string][]string{}
	for _, owners := range s.CodeOwners {
		for _, owner := range owners {
			if _, done := teams[owner]; done || !strings.Contains(owner, "/") {
				continue
			}
			members, err := c.TeamMembers(ctx, owner)
			if err != nil {
				o.log.Info("github: team owner not resolved; its members' approvals do not count for it", "team", owner, "error", err)
			}
			teams[owner] = members
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
		approved, _ := gh.ApprovedBy(owners, s.Approvals, teams)
		if len(owners) > 0 {
			s.OwnedFiles = append(s.OwnedFiles, policy.CodeOwnedFile{File: f, Owners: owners, ApprovedBy: append([]string{}, approved...)})
		}
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

// publishGitHub posts a check result from the check command's --github.
// Failures are logged, never returned: the check's exit code stays the
// policy verdict.
func publishGitHub(ctx context.Context, o *options, s *githubScope, resultJSON []byte, markdownOut string) {
	c := s.Context
	if res, err := checkresult.Decode(resultJSON); err == nil && markdownOut != "" {
		if err := atomicfile.WriteFile(markdownOut, []byte(c.Markdown(res)), 0o644); err != nil {
			o.log.Warn("github: full report not saved", "path", markdownOut, "error", err)
		}
	}
	rep, err := c.Publish(ctx, resultJSON)
	if err != nil {
		o.log.Warn("github: report not fully posted; the verdict stands", "error", err)
	}
	if rep != nil {
		o.log.Info("github: " + rep.String())
	}
}

func newGitHubContextCmd(o *options) *cobra.Command {
	var repo, format string
	cmd := &cobra.Command{
		Use:   "context",
		Short: "Print the pull request's changed files, approvals and code owners",
		Long: `Context prints what a pull request contributes to a check: the files it changes
(every page of the API), the standing approvals (the latest deciding review per
reviewer; dismissed approvals do not count) and the CODEOWNERS owners of each
changed file, read from the base commit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadGitHubScope(cmd.Context(), o, repo)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(o.stdout, s)
			}
			fmt.Fprintf(o.stdout, "pull request #%d at %s (base %s)\n", s.PR, s.HeadSHA, s.BaseRef)
			fmt.Fprintf(o.stdout, "  changed files  %d\n", len(s.ChangedFiles))
			users := make([]string, len(s.Approvals))
			for i, a := range s.Approvals {
				users[i] = a.User
			}
			fmt.Fprintf(o.stdout, "  approvals      %d  %s\n", len(users), strings.Join(users, ", "))
			fmt.Fprintf(o.stdout, "  owner approvals %s\n", strings.Join(s.OwnerApprovals, ", "))
			for _, p := range s.Problems {
				fmt.Fprintf(o.stdout, "  problem: %s\n", p)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func newGitHubIssueCmd(o *options) *cobra.Command {
	var key, title, bodyFile string
	var labels []string
	var closeIt bool
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Open or update the repository's issue for a key (drift), or close it",
		Long: `Issue keeps one open issue per --key: the first run opens it, later runs replace
its body, and --close closes it (when drift is gone). The nightly drift workflow
uses it. A .md body file is used as is; any other file is shown as a code block.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := githubContext(o)
			if err != nil {
				return err
			}
			if closeIt {
				url, err := c.CloseIssue(cmd.Context(), key, "Resolved: the latest run found nothing to report.")
				if err != nil {
					return err
				}
				if url != "" {
					fmt.Fprintf(o.stdout, "closed %s\n", url)
				}
				return nil
			}
			if bodyFile == "" {
				return usagef("--body-file is required unless --close")
			}
			data, err := os.ReadFile(bodyFile)
			if err != nil {
				return fmt.Errorf("read issue body: %w", err)
			}
			body := string(data)
			if !strings.HasSuffix(bodyFile, ".md") {
				body = "```\n" + strings.ReplaceAll(body, "```", "'''") + "\n```\n"
			}
			if c.RunURL != "" {
				body += "\n<sub>Updated by [this run](" + c.RunURL + ").</sub>\n"
			}
			body = clipIssue(body)
			url, created, err := c.UpsertIssue(cmd.Context(), key, title, body, labels)
			if err != nil {
				return err
			}
			verb := "updated"
			if created {
				verb = "opened"
			}
			fmt.Fprintf(o.stdout, "%s %s\n", verb, url)
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "drift", "which of Slipway's issues this is")
	cmd.Flags().StringVar(&title, "title", "Slipway: drift detected", "issue title")
	cmd.Flags().StringVar(&bodyFile, "body-file", "", "issue body `FILE`")
	cmd.Flags().StringSliceVar(&labels, "label", nil, "label for a new issue (repeatable)")
	cmd.Flags().BoolVar(&closeIt, "close", false, "close the open issue of --key instead")
	return cmd
}

// clipIssue keeps an issue body under GitHub's 65,536-character limit.
func clipIssue(body string) string {
	const limit = 65536 - 512
	if len(body) <= limit {
		return body
	}
	cut := body[:limit]
	for !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	return cut + "\n\n…cut to GitHub's size limit; the run's artifacts have the rest.\n"
}
