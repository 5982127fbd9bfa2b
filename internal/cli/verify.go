package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/ledger"
	"github.com/slipway-ml/slipway/internal/report"
	"github.com/slipway-ml/slipway/internal/verify"
)

func newVerifyCmd(o *options) *cobra.Command {
	var repo, env, model, artifact, format, head, reportFile string
	var repair bool
	var trust trustFlags
	cmd := &cobra.Command{
		Use:   "verify [ENVELOPE...]",
		Short: "Verify the release ledger or release attestations",
		Long: `Verify checks every release record of the ledger against the trusted
public keys: the --key files, else SLIPWAY_TRUSTED_KEYS, else
signing.trustedKeys of the spec at --base REF, and only when none of these is
given the work tree's own signing.trustedKeys (a pull request can change
those, so CI passes one of the others). It checks the signature, the
predicate type, the ledger's chains (a deleted, reordered, replaced or
edited record is named), that the decision recorded was a pass, and with
--artifact that the model file is the one released. It judges the signed
records, never the work dir: comparing a saved plan with its release is
apply's job. With --head (or SLIPWAY_LEDGER_HEAD), the head a release
printed and the workflow kept outside the repository, it also fails when
the ledger lost or rewrote any entry up to that head, or is empty.

With ENVELOPE arguments it checks those attestation files instead, such as
one made by cosign attest-blob with Slipway's predicate type; they carry no
chain. Exit status 0 only when everything holds, 1 when anything fails.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			root, err := filepath.Abs(repo)
			if err != nil {
				return err
			}
			now, err := releaseNow(o)
			if err != nil {
				return err
			}
			if reportFile != "" {
				keys, err := trust.root(o, root).Resolve(ctx)
				if err != nil {
					return err
				}
				sc, err := report.VerifySignature(ctx, reportFile, keys.Keys)
				if errors.Is(err, report.ErrReportSignature) {
					fmt.Fprintf(o.stdout, "FAIL  report %s: %v\n", reportFile, err)
					return fmt.Errorf("report verification failed: %w", ErrDenied)
				}
				if err != nil {
					return err
				}
				if format == "json" {
					return writeJSON(o.stdout, sc)
				}
				fmt.Fprintf(o.stdout, "ok    report %s %s signed by %s (SHA-256 %s)\n", sc.Report, sc.SHA256, sc.KeyID, sc.Fingerprint)
				return nil
			}
			vo := verify.Options{Root: root, Trust: trust.root(o, root), Environment: env, Model: model, Artifact: artifact, Now: now, Head: head, Repair: repair}
			if vo.Head == "" {
				vo.Head = o.getenv(verify.LedgerHeadEnv)
			}
			var rep *verify.Report
			if len(args) > 0 {
				rep, err = verify.Envelopes(ctx, vo, args)
			} else {
				rep, err = verify.Ledger(ctx, vo)
			}
			if err != nil {
				return err
			}
			if format == "json" {
				if err := writeJSON(o.stdout, rep); err != nil {
					return err
				}
			} else {
				printVerify(o, rep, len(args) == 0)
			}
			if !rep.OK {
				return fmt.Errorf("verification failed: %w", ErrDenied)
			}
			return nil
		},
	}
	repoFlag(cmd, &repo)
	cmd.Flags().StringVar(&env, "env", "", "verify only the releases to this environment")
	cmd.Flags().StringVar(&model, "model", "", "verify only the releases of this model")
	trust.register(cmd)
	cmd.Flags().BoolVar(&repair, "repair", false, "first adopt each unlisted record that verifies as the ledger's next one into the index, and move any other under releases/.unlisted/")
	cmd.Flags().StringVar(&head, "head", "", "ledger head `sha256:…` kept outside the repository (default "+verify.LedgerHeadEnv+"): the index must still hold it")
	cmd.Flags().StringVar(&reportFile, "report", "", "check the audit report `FILE` against its signature FILE.sig (slipway report --sign) instead of the ledger")
	cmd.Flags().StringVar(&artifact, "artifact", "", "model artifact `FILE` to compare with the newest release's digest")
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func printVerify(o *options, rep *verify.Report, isLedger bool) {
	w := o.stdout
	printRepairs(o, rep.Repaired)
	ok := 0
	for _, r := range rep.Records {
		status := "FAIL"
		if r.OK {
			status = "ok"
			ok++
		}
		kind := ""
		if !r.IsRelease() {
			kind = " " + string(r.Kind)
		}
		fmt.Fprintf(w, "%-4s  %s/%s %s%s%s  %s", status, r.Environment, r.Model, r.Version, revisionText(r.Revision), kind, r.Path)
		if r.OK {
			fmt.Fprintf(w, "  signed %s by %s", r.ReleasedAt, r.KeyID)
		}
		fmt.Fprintln(w)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "      %s\n", p)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "      note: %s\n", n)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "FAIL  %s\n", p)
	}
	if len(rep.Records) == 0 && len(rep.Problems) == 0 {
		fmt.Fprintln(w, "no release records")
		return
	}
	what := "attestation(s)"
	if isLedger {
		what = "release record(s) of " + ledger.Dir + "/" + ledger.IndexFile
	}
	fmt.Fprintf(w, "verified %d of %d %s", ok, len(rep.Records), what)
	if rep.Head != "" {
		fmt.Fprintf(w, "; ledger head %s", rep.Head)
	}
	if rep.KeysFrom != "" {
		fmt.Fprintf(w, "; keys from %s", rep.KeysFrom)
	}
	fmt.Fprintln(w)
	if !rep.OK {
		n := len(rep.Problems)
		for _, r := range rep.Records {
			n += len(r.Problems)
		}
		fmt.Fprintf(w, "verification FAILED: %d problem(s)\n", n)
	}
}

func printRepairs(o *options, repaired []ledger.Repair) {
	for _, r := range repaired {
		if r.Adopted {
			fmt.Fprintf(o.stdout, "adopted   %s (ledger entry %d): %s\n", r.Path, r.Seq, r.Reason)
		} else {
			fmt.Fprintf(o.stdout, "moved     %s to %s: %s\n", r.Path, r.MovedTo, r.Reason)
		}
	}
}
