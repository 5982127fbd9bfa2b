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
	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/report"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/internal/sign"
	"github.com/slipway-ml/slipway/internal/spec"
)

func newReportCmd(o *options) *cobra.Command {
	var repo, model, env, since, until, format, out, signKey string
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

Figures come only from verified release records and the evidence bundles
they pin by digest (releases/blobs/sha256), or, for records made before
releases kept bundles, from evidence files whose digest they pin; each
figure says which. What no record carries (a description, a waiver not yet
signed) is marked as read from the spec as it is now. A record that fails
verification, or whose bundle blob is missing or changed, is listed as such
and none of its figures are used.

--format html writes one self-contained file (inline CSS and SVG, no
scripts) that prints to PDF; pdf is that HTML printed to A4 by headless
Chromium (chromium on PATH, else exit 2), with page numbers, the contents
and a document outline; md renders on GitHub; json follows
docs/report-schema.json; modelcard (with --model) writes a Hugging
Face-style model card, README.md with model-index YAML front matter, its
metrics from the verified release alone and what people declared marked
as declared. The clock is SLIPWAY_NOW when set (RFC 3339), so
the same repository, ledger and clock give byte-identical reports.

Every report's sha256 is logged on stderr. With --sign KEY (and --out) the
report is signed with that private key (password from SLIPWAY_KEY_PASSWORD
or COSIGN_PASSWORD): a DSSE envelope over an in-toto statement naming the
report file by digest, written beside it as FILE.sig; slipway verify
--report FILE checks it.

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
			if format == report.FormatModelCard && model == "" {
				return usagef("--format modelcard needs --model: a model card is of one model")
			}
			var signer *sign.Signer
			if signKey != "" {
				if out == "" || out == "-" {
					return usagef("--sign needs --out FILE: the signature is written beside the report")
				}
				password, err := sign.Password(o.getenv)
				if err != nil {
					return usagef("%v", err)
				}
				keyPEM, err := safefile.ReadFile(signKey, safefile.Key)
				if err != nil {
					return fmt.Errorf("key: %w", err)
				}
				if signer, err = sign.LoadPrivateKey(keyPEM, password); err != nil {
					return fmt.Errorf("key %s: %w", signKey, err)
				}
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
			if err := report.Render(ctx, &buf, rep, format); err != nil {
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
			o.log.Info("report digest", "sha256", digest.Bytes(buf.Bytes()))
			if signer != nil {
				env, err := report.Sign(ctx, signer, rep, out, buf.Bytes())
				if err != nil {
					return fmt.Errorf("sign report: %w", err)
				}
				if err := atomicfile.WriteFile(out+report.SignatureSuffix, env, 0o644); err != nil {
					return fmt.Errorf("write report signature: %w", err)
				}
				o.log.Info("signed report", "signature", out+report.SignatureSuffix)
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
	cmd.Flags().StringVar(&signKey, "sign", "", "sign the report with the private `KEY` and write the signature to FILE.sig")
	trust.register(cmd)
	formatFlag(cmd, &format, report.FormatHTML, report.FormatMarkdown, report.FormatJSON, report.FormatPDF, report.FormatModelCard)
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
