package cli

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/monitor"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newMonitorCmd(o *options) *cobra.Command {
	var repo, env, model, since, keyFile, format string
	var dryRun, github bool
	var ghTimeout time.Duration
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Judge deployed models on their production prediction logs and sign a monitoring record",
		Long: `Monitor reads each model's production prediction logs (monitoring.source: a
PostgreSQL table, aggregated inside the database, or partitioned files),
measures input and prediction drift against the released version's
reference snapshot, live performance and fairness once outcomes arrive,
the share of requests served by unreleased versions and the release's age,
judges them with the monitoring policy pack and appends a signed
monitoring record to the ledger.

The window runs from the end of the model's last monitoring record (or
--since) to now (SLIPWAY_NOW when set). The connection string is read
from the variable monitoring.source.connEnv names and never printed.

Exit status: 0 when healthy, 1 when a rule denied (the record is still
written), 2 when the logs could not be read or, with --github, the issue
could not be kept (no record is written).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if env == "" {
				return usagef("--env is required")
			}
			if keyFile == "" && !dryRun {
				return usagef("--sign-key is required to sign the monitoring record (or pass --dry-run)")
			}
			now, err := releaseNow(o)
			if err != nil {
				return err
			}
			var from time.Time
			if since != "" {
				if from, err = parseSince(since); err != nil {
					return usagef("--since %q: want an RFC 3339 time or a date (2006-01-02)", since)
				}
			}
			var signer *sign.Signer
			if keyFile != "" {
				password, err := sign.Password(o.getenv)
				if err != nil {
					return err
				}
				keyPEM, err := safefile.ReadFile(keyFile, safefile.Key)
				if err != nil {
					return fmt.Errorf("key: %w", err)
				}
				if signer, err = sign.LoadPrivateKey(keyPEM, password); err != nil {
					return fmt.Errorf("key %s: %w", keyFile, err)
				}
			}
			p, err := spec.Load(cmd.Context(), repo)
			if err != nil {
				return err
			}
			mo := monitor.Options{
				Platform: p, Env: env, Model: model, Since: from, Now: now, Getenv: o.connGetenv,
				Trust: trust.loaded(o, p), Signer: signer, Version: Version, Log: o.log,
			}
			if github {
				c, err := githubContext(o, repo, ghTimeout)
				if err != nil {
					return err
				}
				mo.Issues = c
			}
			res, err := monitor.Monitor(cmd.Context(), mo)
			if err != nil {
				return err
			}
			if format == "json" {
				if err := writeJSON(o.stdout, res); err != nil {
					return err
				}
			} else {
				printMonitor(o, res)
			}
			if n := res.Denied(); n > 0 {
				return fmt.Errorf("%d model(s) breached: %w", n, ErrDenied)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repo, "repo", ".", "platform repository `DIR`")
	cmd.Flags().StringVar(&env, "env", "", "environment to monitor")
	cmd.Flags().StringVar(&model, "model", "", "monitor only this model (default: every model with a monitoring.source)")
	cmd.Flags().StringVar(&since, "since", "", "start the window at this `TIME` (RFC 3339 or a date) instead of the last record's end")
	cmd.Flags().StringVar(&keyFile, "sign-key", "", "private key `FILE` in cosign's format that signs the record")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "judge without writing a record")
	cmd.Flags().BoolVar(&github, "github", false, "keep one GitHub issue per model and environment, labelled "+monitor.IssueLabel+": opened or updated while it breaches, closed once healthy")
	githubTimeoutFlag(cmd, &ghTimeout)
	trust.register(cmd)
	// --key names the trusted public keys, as for verify; the signing key
	// has its own flag.
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

func printMonitor(o *options, res *monitor.Result) {
	w := o.stdout
	for _, r := range res.Runs {
		f := r.Figures
		from := "the first request"
		if !f.Window.From.IsZero() {
			from = f.Window.From.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s  %s/%s  %d request(s) from %s to %s\n", upperOutcome(r.Verdict), r.Environment, r.Model, f.Rows, from, f.Window.To.Format(time.RFC3339))
		for _, name := range slices.Sorted(maps.Keys(f.Drift)) {
			d := f.Drift[name]
			fmt.Fprintf(w, "  drift  %-24s psi %s  ks %s\n", name, num(d.PSI), num(d.KS))
		}
		if d := f.PredictionDrift; d != nil {
			fmt.Fprintf(w, "  drift  %-24s psi %s  ks %s\n", "(prediction)", num(d.PSI), num(d.KS))
		}
		for _, v := range slices.Sorted(maps.Keys(f.Versions)) {
			s := f.Versions[v]
			rel := "released"
			if !s.Released {
				rel = "NOT RELEASED"
			}
			fmt.Fprintf(w, "  version %-23s %d request(s) (%.1f%%) %s\n", v, s.Requests, s.Share*100, rel)
		}
		if l := f.Outcomes; l != nil {
			fmt.Fprintf(w, "  outcomes %d labelled", l.Labelled)
			for _, m := range []string{"accuracy", "precision", "recall", "f1"} {
				if v, ok := l.Overall.Get(m); ok {
					fmt.Fprintf(w, "  %s %.4f", m, v)
				}
			}
			fmt.Fprintln(w)
		}
		for _, x := range r.Results {
			if x.Outcome == policy.OutcomePass {
				continue
			}
			fmt.Fprintf(w, "  %s %s: %s\n", upperOutcome(x.Outcome), x.Rule, x.Message)
		}
		if r.Record != "" {
			fmt.Fprintf(w, "  record %s\n", r.Record)
		}
		if r.Issue != nil {
			fmt.Fprintf(w, "  issue %s %s\n", r.Issue.Action, r.Issue.URL)
		}
	}
}

func upperOutcome(o policy.Outcome) string {
	switch o {
	case policy.OutcomeDeny:
		return "DENY"
	case policy.OutcomeWarn:
		return "WARN"
	case policy.OutcomeWaived:
		return "WAIVED"
	}
	return "PASS"
}

func num(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", *v)
}
