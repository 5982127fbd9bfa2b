package cli

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/check"
	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/release"
	"github.com/slipway-ml/slipway/internal/render"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
	"github.com/slipway-ml/slipway/internal/terraform"
	"github.com/slipway-ml/slipway/internal/verify"
)

func newReleaseCmd(o *options) *cobra.Command {
	var repo, env, model, keyFile, workDir, format, checkMode, backdated string
	var github bool
	var githubTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Sign a release attestation for what the check passed",
		Long: `Release signs one in-toto attestation per model the check judged in the
environment, in a DSSE envelope with a key in cosign's format, writes it to
releases/ENV/MODEL/VERSION.intoto.json and appends it to the ledger
releases/ledger.jsonl. Nothing is signed when any model has a deny.

The check result is the one the last ` + "`slipway check`" + ` left in
WORKDIR/check/result.json when it is fresh: made at this commit, for these
specs, over saved plans and evidence that have not changed since, for the
model versions the specs now name. Otherwise the check runs again for the
environment (--check auto, the default). --check reuse refuses a missing or
stale result instead; --check run always runs the check. A saved result is
never taken on its word: it must name the commit, spec and policy digests
it judged, and the policies, judging its saved plans and evidence again
(no Terraform), must give the outcomes it records; otherwise --check auto
runs the check again and --check reuse refuses.

Approvals are signed only when GitHub confirms them: with --github the
release reads the pull request's reviews (on a push, the pull request merged
as the commit), refuses a check result that records an approval GitHub does
not list, and judges with and signs GitHub's list. Without --github the
approvals a check result records are neither counted nor signed, so an
environment that needs approvals refuses. A work dir whose files git tracks
is refused: a pull request could commit a check result of its own.

The key password comes from SLIPWAY_KEY_PASSWORD or COSIGN_PASSWORD only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if env == "" {
				return usagef("--env is required")
			}
			if keyFile == "" {
				return usagef("--key is required")
			}
			if err := release.ValidCheckMode(checkMode); err != nil {
				return usagef("--check %v", err)
			}
			password, err := sign.Password(o.getenv)
			if err != nil {
				return usagef("%v", err)
			}
			keyPEM, err := safefile.ReadFile(keyFile, safefile.Key)
			if err != nil {
				return fmt.Errorf("key: %w", err)
			}
			signer, err := sign.LoadPrivateKey(keyPEM, password)
			if err != nil {
				return fmt.Errorf("key %s: %w", keyFile, err)
			}
			p, err := spec.Load(ctx, repo)
			if err != nil {
				return err
			}
			wd := releaseWorkDir(p.Root, workDir)
			// The check it may run and the plans it signs stay this run's
			// until the release is recorded.
			ctx, unlock, err := reconcile.LockWorkDir(ctx, wd, 0)
			if err != nil {
				return err
			}
			defer unlock()
			now, err := releaseNow(o)
			if err != nil {
				return err
			}
			source, err := release.SourceOf(ctx, p.Root)
			if err != nil {
				return err
			}
			var reviews func(context.Context) (*checkresult.Reviews, error)
			if github {
				ghc, err := githubContext(o, repo, githubTimeout)
				if err != nil {
					return err
				}
				reviews = func(ctx context.Context) (*checkresult.Reviews, error) {
					return ghc.Reviews(ctx, p)
				}
			}
			co := check.Options{Repo: repo, WorkDir: wd, Envs: []string{env}, Now: now, Version: Version, Getenv: o.connGetenv, Log: o.log}
			out, err := release.Run(ctx, release.Request{
				Options: release.Options{
					Platform: p, WorkDir: wd, Environment: env, Model: model,
					Signer: signer, Version: Version, Now: now, Source: source, Backdated: backdated, Reviews: reviews,
					Rejudge: func(ctx context.Context, saved *checkresult.Result) (*checkresult.Result, error) {
						return check.Rejudge(ctx, co, saved)
					},
				},
				CheckMode: checkMode,
				KeyName:   keyFile,
				RunCheck: func(ctx context.Context) error {
					_, err := check.Run(ctx, co)
					return err
				},
				Log: o.log,
			})
			if out != nil {
				if format == "json" {
					if werr := writeJSON(o.stdout, out); werr != nil && err == nil {
						err = werr
					}
				} else {
					printRelease(o, out)
				}
			}
			if err != nil {
				return err
			}
			if len(out.Refused) > 0 {
				return fmt.Errorf("release refused for %s: %d denial(s): %w", env, len(out.Refused), ErrDenied)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().StringVar(&env, "env", "", "environment to release to")
	cmd.Flags().StringVar(&model, "model", "", "release only this model")
	cmd.Flags().StringVar(&keyFile, "key", "", "private key `FILE` in cosign's format")
	cmd.Flags().StringVar(&workDir, "workdir", "", "work dir with the check result and saved plans (default REPO/.slipway)")
	cmd.Flags().StringVar(&checkMode, "check", "auto", "auto: reuse the saved check result when fresh, else run the check; reuse: only the saved result; run: always run the check")
	cmd.Flags().StringVar(&backdated, "backdated", "", "release although the clock is behind the ledger's newest entry, for this `REASON`, which the record keeps")
	cmd.Flags().BoolVar(&github, "github", false, "in GitHub Actions: confirm the check result's approvals against the pull request's reviews, and sign GitHub's")
	githubTimeoutFlag(cmd, &githubTimeout)
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func printRelease(o *options, out *release.Outcome) {
	printRepairs(o, out.Repaired)
	for _, d := range out.Refused {
		fmt.Fprintf(o.stdout, "refused   %s/%s: %s\n", out.Environment, d.Model, d.Reason)
	}
	if len(out.Refused) > 0 {
		fmt.Fprintf(o.stdout, "nothing was signed: fix or waive the denials and run the check again\n")
	}
	for _, r := range out.Released {
		fmt.Fprintf(o.stdout, "released  %s/%s %s%s  %s  (ledger entry %d, key %s)\n", out.Environment, r.Model, r.Version, revisionText(r.Revision), r.Path, r.Seq, r.KeyID)
	}
	for _, m := range out.Removed {
		fmt.Fprintf(o.stdout, "removed   %s/%s: the model no longer deploys here; the delete plan of its stack is not released\n", out.Environment, m)
	}
	for _, r := range out.Skipped {
		fmt.Fprintf(o.stdout, "unchanged %s/%s %s%s  %s  (already released; the plans are the same or change nothing)\n", out.Environment, r.Model, r.Version, revisionText(r.Revision), r.Path)
	}
	if out.Head != "" {
		fmt.Fprintf(o.stdout, "ledger head %s\n", out.Head)
	}
}

// revisionText shows a revision after the version; the first shows none.
func revisionText(rev int) string {
	if rev > 1 {
		return fmt.Sprintf(" (revision %d)", rev)
	}
	return ""
}

// releaseWorkDir resolves --workdir against the repository.
func releaseWorkDir(root, flag string) string {
	if flag == "" {
		return filepath.Join(root, render.DefaultWorkDir)
	}
	if abs, err := filepath.Abs(flag); err == nil {
		return abs
	}
	return flag
}

// releaseNow is the clock of release and verify; SLIPWAY_NOW (RFC 3339)
// pins it so tests and audits of the past are reproducible.
func releaseNow(o *options) (time.Time, error) {
	s := o.getenv("SLIPWAY_NOW")
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("SLIPWAY_NOW=%q: want an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// allowUnreleasedFlag registers apply's --allow-unreleased.
func allowUnreleasedFlag(cmd *cobra.Command, allow *bool) {
	cmd.Flags().BoolVar(allow, "allow-unreleased", false, "apply plans no verified release covers, in environments that are not protected")
}

// releaseGate is apply's gate (release.ApplyGate), with its log lines.
func releaseGate(o *options, p *spec.Platform, trust verify.TrustRoot, now time.Time, allowUnreleased bool) reconcile.Gate {
	g := &release.ApplyGate{Platform: p, AllowUnreleased: allowUnreleased, Trust: trust, Now: now, Log: o.log}
	return reconcile.GateFunc(func(ctx context.Context, s terraform.Summary) error {
		c, err := g.Admit(ctx, s.Environment, path.Base(s.Stack), s.PlanSHA256)
		switch {
		case err != nil:
			return err
		case c == nil:
			o.log.Warn("applying without a release check (--allow-unreleased)", "stack", s.Stack)
		default:
			o.log.Info("release covers plan", "stack", s.Stack, "release", c.Record, "key", c.KeyID)
		}
		return nil
	})
}

// trustFlags are the flags of the commands that verify releases: where
// the trusted keys come from.
type trustFlags struct {
	files []string
	base  string
}

func (t *trustFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&t.files, "key", nil, "trust this public key `FILE` (repeatable; default "+verify.TrustedKeysEnv+", else the spec at --base, else the work tree's signing.trustedKeys)")
	cmd.Flags().StringVar(&t.base, "base", "", "trust the signing.trustedKeys of the spec at this git `REF`, out of a pull request's reach")
}

func (t *trustFlags) root(o *options, root string) verify.TrustRoot {
	return verify.TrustRoot{
		Root: root, Files: t.files, Env: o.getenv(verify.TrustedKeysEnv), Base: t.base,
		Load: func(ctx context.Context) (*spec.Platform, error) { return spec.Load(ctx, root) },
	}
}

// loaded is root for a command that has loaded the platform already.
func (t *trustFlags) loaded(o *options, p *spec.Platform) verify.TrustRoot {
	r := t.root(o, p.Root)
	r.Load = func(context.Context) (*spec.Platform, error) { return p, nil }
	return r
}
