package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/gh"
	"github.com/slipway-ml/slipway/internal/prcomment"
	"github.com/slipway-ml/slipway/internal/render"
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

// githubContext reads the job's environment for the platform at repo; logs
// go to o.log and workflow commands to stderr, keeping stdout for results.
// timeout bounds the GitHub calls (--github-timeout).
func githubContext(o *options, repo string, timeout time.Duration) (*gh.Context, error) {
	c, err := gh.FromEnv(o.getenv, gh.WithOutput(o.stderr), gh.WithLogger(o.log), gh.WithTimeout(timeout))
	if err != nil {
		return nil, err
	}
	c.PathPrefix = gh.PlatformPrefix(o.getenv, repo)
	return c, nil
}

// githubTimeoutFlag adds --github-timeout.
func githubTimeoutFlag(cmd *cobra.Command, d *time.Duration) {
	cmd.Flags().DurationVar(d, "github-timeout", gh.DefaultTimeout, "longest `DURATION` to spend on GitHub in all; past it the verdict stands and the report goes to the job summary")
}

func newGitHubReportCmd(o *options) *cobra.Command {
	var repo, resultPath, markdownOut, format, sha, commentKey string
	var pr int
	var dryRun bool
	var timeout time.Duration
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
				md := prcomment.Markdown(res, prcomment.Options{})
				if c, err := githubContext(o, repo, timeout); err == nil {
					md = c.Markdown(res)
				}
				fmt.Fprint(o.stdout, md)
				return verdictErr(res)
			}
			c, err := githubContext(o, repo, timeout)
			if err != nil {
				return err
			}
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
	cmd.Flags().StringVar(&resultPath, "result", filepath.Join(render.DefaultWorkDir, filepath.FromSlash(checkresult.File)), "check result `FILE` (slipway check --format json)")
	cmd.Flags().StringVar(&markdownOut, "markdown-out", "", "where to write the full comment Markdown (default: comment.md beside --result)")
	cmd.Flags().IntVar(&pr, "pr", 0, "pull request `NUMBER` (default: from the event)")
	cmd.Flags().StringVar(&sha, "sha", "", "commit to report on (default: the pull request head, else GITHUB_SHA)")
	cmd.Flags().StringVar(&commentKey, "comment-key", "", "name of the sticky comment (default: the check's on pull requests, \"merged-ENVS\" after merge)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the comment Markdown instead of posting")
	githubTimeoutFlag(cmd, &timeout)
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func verdictErr(res *prcomment.Result) error {
	if res.Verdict == prcomment.Deny {
		return fmt.Errorf("check result: %w", ErrDenied)
	}
	return nil
}

// publishGitHub posts a check result from the check command's --github.
// Failures are logged, never returned: the check's exit code stays the
// policy verdict.
func publishGitHub(ctx context.Context, o *options, c *gh.Context, resultJSON []byte, markdownOut string) {
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
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "context",
		Short: "Print the pull request's changed files, approvals and code owners",
		Long: `Context prints what a pull request contributes to a check: the files it changes
(every page of the API), the standing approvals (the latest deciding review per
reviewer; dismissed approvals do not count) and the CODEOWNERS owners of each
changed file, read from the base commit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := githubContext(o, repo, timeout)
			if err != nil {
				return err
			}
			s, err := c.Scope(cmd.Context())
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
			if s.Authors != nil {
				fmt.Fprintf(o.stdout, "  authors        %s (their approvals do not count)\n", strings.Join(s.Authors, ", "))
			}
			for _, p := range s.Problems {
				fmt.Fprintf(o.stdout, "  problem: %s\n", p)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	githubTimeoutFlag(cmd, &timeout)
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
			c, err := githubContext(o, ".", 0)
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
			body := c.IssueBody(string(data), strings.HasSuffix(bodyFile, ".md"))
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
