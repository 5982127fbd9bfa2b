package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/reconcile"
	"github.com/slipway-ml/slipway/internal/rollback"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newRollbackCmd(o *options) *cobra.Command {
	var repo, workDir, tfBin, env, model, to, signKey, format string
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Take a model back to an earlier verified release and record it",
		Long: `Rollback takes the model in the environment back to its previous verified
release (the newest verified release of another version than the newest
release), or to --to VERSION, with real Terraform, and appends a signed
rollback record to the ledger: who, when, from and to which release, the
strategy, the stacks, the outcome and the duration.

Like apply, it re-applies only what a verified release covers (the ledger
must verify with the trusted keys: --key, SLIPWAY_TRUSTED_KEYS or --base).
A saved plan cannot be applied once the state moved on, so rollback takes
the root module the target release signed from the plan it pinned
(<workdir>/plans/sha256/), checks its digest against the release, plans it
against the current state and applies that plan. See docs/releases.md.

The record is signed with --sign-key (a private key in cosign's format; the
password comes from SLIPWAY_KEY_PASSWORD or COSIGN_PASSWORD). A rollback in
an environment that is not protected is the rehearsal handover.rollback_tested
asks for.

Exit status: 0 when the rollback succeeded, 1 when it was refused (nothing
ran, nothing recorded), 2 when Terraform failed (recorded as failed) or on
any other error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if env == "" || model == "" {
				return usagef("--env and --model are required")
			}
			if signKey == "" {
				return usagef("--sign-key is required: the rollback record is signed")
			}
			password, err := sign.Password(o.getenv)
			if err != nil {
				return usagef("%v", err)
			}
			keyPEM, err := safefile.ReadFile(signKey, safefile.Key)
			if err != nil {
				return fmt.Errorf("sign key: %w", err)
			}
			signer, err := sign.LoadPrivateKey(keyPEM, password)
			if err != nil {
				return fmt.Errorf("sign key %s: %w", signKey, err)
			}
			now, err := releaseNow(o)
			if err != nil {
				return err
			}
			p, err := spec.Load(ctx, repo)
			if err != nil {
				return err
			}
			user, declaredBy := actor(o)
			out, err := rollback.Run(ctx, rollback.Request{
				Platform:    p,
				Reconcile:   reconcile.Options{WorkDir: workDir, Terraform: tfBin, Getenv: o.connGetenv, Log: o.log},
				Environment: env, Model: model, To: to,
				Trust: trust.loaded(o, p), Signer: signer, Now: now,
				User: user, DeclaredBy: declaredBy, Version: Version,
			})
			if out != nil {
				if format == "json" {
					_ = writeJSON(o.stdout, out)
				} else {
					printRollback(o, out)
				}
			}
			if errors.Is(err, rollback.ErrRefused) {
				fmt.Fprintf(o.stdout, "refused   %s/%s: %v\n", env, model, err)
				return fmt.Errorf("%w: %w", ErrDenied, err)
			}
			return err
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().StringVar(&workDir, "workdir", "", "work `DIR` with the pinned plans and local state (default <repo>/.slipway)")
	cmd.Flags().StringVar(&tfBin, "terraform", "", "Terraform or OpenTofu binary `PATH` (default $SLIPWAY_TERRAFORM, else terraform, else tofu, on PATH)")
	cmd.Flags().StringVar(&env, "env", "", "environment to roll back in")
	cmd.Flags().StringVar(&model, "model", "", "model to roll back")
	cmd.Flags().StringVar(&to, "to", "", "`VERSION` to go back to (default: the previous verified release)")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "private key `FILE` in cosign's format that signs the rollback record")
	trust.register(cmd)
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

// actor is who runs the command as its environment declares it: nothing
// checks it, so the record says which variable declared it.
func actor(o *options) (user, declaredBy string) {
	for _, v := range []string{"GITHUB_ACTOR", "USER"} {
		if u := o.getenv(v); u != "" {
			return u, "$" + v
		}
	}
	return "", ""
}

func printRollback(o *options, out *rollback.Outcome) {
	w := o.stdout
	fmt.Fprintf(w, "rollback  %s/%s %s -> %s  (%s, strategy %s)\n", out.Environment, out.Model, out.From.Version, out.To.Version, out.Outcome, out.Strategy)
	if r := out.Result; r != nil {
		fmt.Fprintf(w, "  %s  %s  restored from %s\n", r.Stack, counts(r.Changes), out.To.Path)
	}
	if out.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", firstLineOf(out.Error))
	}
	if out.Record != "" {
		fmt.Fprintf(w, "recorded  %s  (ledger entry %d, key %s)\n", out.Record, out.Seq, out.KeyID)
	}
}

func firstLineOf(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
