package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/atomicfile"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/report"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newReportCmd(o *options) *cobra.Command {
	var repo, model, env, since, until, format, out string
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write the audit report: portfolio, model dossiers and control coverage",
		Long: `Report verifies the release ledger and writes an audit report for compliance
teams: every model's current version per environment, its latest decision,
waivers (expired or expiring within 30 days highlighted), models lacking
fairness or handover evidence, releases that fail verification, and a
dossier per model (identity, releases, data lineage, evaluation, fairness
per group with charts, tests, handover checklist, policy results with the
controls they serve, waivers, approvals, signatures, infrastructure
changes). Control coverage tables map EU AI Act Annex IV, NIST AI RMF and
ISO/IEC 42001 items to rules through the rules' metadata.

Figures come only from verified release records or from evidence files
whose digest those records pin; each figure says which. A record that fails
verification is listed as such and none of its figures are used.

--format html writes one self-contained file (inline CSS and SVG, no
scripts) that prints to PDF; md renders on GitHub; json follows
docs/report-schema.json. The clock is SLIPWAY_NOW when set (RFC 3339), so
the same repository, ledger and clock give byte-identical reports.

Exit status 1 when the ledger fails verification (the report is written
first), 0 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			sinceT, err := reportDate("--since", since, false)
			if err != nil {
				return err
			}
			untilT, err := reportDate("--until", until, true)
			if err != nil {
				return err
			}
			if !sinceT.IsZero() && !untilT.IsZero() && !sinceT.Before(untilT) {
				return usagef("--since %s is after --until %s", since, until)
			}
			now, err := releaseNow(o)
			if err != nil {
				return err
			}
			if err := reportOut(out, format); err != nil {
				return err
			}
			p, err := spec.Load(ctx, repo)
			if err != nil {
				return err
			}
			keys, err := trust.loaded(o, p).Resolve(ctx)
			if err != nil {
				return err
			}
			eng, err := policy.New(ctx, p.Root)
			if err != nil {
				return err
			}
			o.log.Debug("building report", "models", len(p.Models))
			rep, err := report.Build(ctx, report.Options{
				Platform: p, Keys: keys.Keys, Rules: eng.Rules(), Model: model, Environment: env,
				Since: sinceT, Until: untilT, Now: now, Version: Version,
			})
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := report.Render(&buf, rep, format); err != nil {
				return err
			}
			if out == "" || out == "-" {
				if _, err := o.stdout.Write(buf.Bytes()); err != nil {
					return err
				}
			} else {
				if err := atomicfile.WriteFile(out, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("write report: %w", err)
				}
				o.log.Info("wrote report", "file", out, "format", format, "models", len(rep.Models), "releases", rep.Summary.Releases)
			}
			if !rep.Ledger.OK {
				// The report shows the failures; the exit status says so too.
				o.log.Warn("the ledger fails verification", "failing", rep.Ledger.Failed, "records", rep.Ledger.Records)
				return fmt.Errorf("the ledger fails verification: %w", ErrDenied)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().StringVar(&model, "model", "", "report on this model only (dossier)")
	cmd.Flags().StringVar(&env, "env", "", "report on this environment only")
	cmd.Flags().StringVar(&since, "since", "", "show releases from this `DATE` (YYYY-MM-DD, UTC)")
	cmd.Flags().StringVar(&until, "until", "", "show releases up to and including this `DATE`; current versions are those in force then")
	cmd.Flags().StringVar(&out, "out", "", "write the report to `FILE` instead of stdout")
	trust.register(cmd)
	formatFlag(cmd, &format, report.FormatHTML, report.FormatMarkdown, report.FormatJSON)
	return cmd
}

// reportDate parses a --since/--until date; an until date includes its
// whole day.
func reportDate(flag, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, usagef("%s %q: want a date such as 2026-11-23", flag, s)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// reportOut refuses an --out that names a directory before any work is
// done: the report is one file, and its name is the caller's to choose.
func reportOut(out, format string) error {
	if out == "" || out == "-" {
		return nil
	}
	fi, err := os.Stat(out)
	if strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator)) || err == nil && fi.IsDir() {
		return usagef("--out %q is a directory: name the report file, such as %s", out, filepath.Join(out, "report."+format))
	}
	return nil
}
