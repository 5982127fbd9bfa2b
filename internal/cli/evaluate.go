package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/internal/digest"
	"github.com/slipway-ml/slipway/internal/evidence"
	"github.com/slipway-ml/slipway/internal/metrics"
	"github.com/slipway-ml/slipway/internal/spec"
)

type evaluateFlags struct {
	predictions, label, prediction, score, weight, positive, task string
	threshold                                                     float64
	sensitive, referenceGroups                                    []string
	intersectional                                                bool
	minGroupSize, bootstrap                                       int
	seed                                                          int64
	format, repo, workdir                                         string
	models                                                        []string
}

func newEvaluateCmd(o *options) *cobra.Command {
	var f evaluateFlags
	cmd := &cobra.Command{
		Use:   "evaluate",
		Short: "Compute performance, fairness and data-quality metrics from evidence files",
		Long: `Evaluate measures models from their evidence; it never trusts numbers typed
into a spec.

With --predictions it evaluates one predictions file (CSV, gzip CSV, JSON Lines
or Parquet) and prints the metrics: overall, per group of each --sensitive
attribute, fairness gaps between the groups, and with --bootstrap 95%
confidence intervals. Bad input (a missing column, a label outside the classes,
a non-numeric score, a ragged row, an empty file) is an error naming the file,
row and column, and exit status 2.

Without --predictions it reads the platform specs in --repo and, for every
model (or those named by --model), evaluates the predictions, JUnit reports,
data snapshots and runbook the spec names, and writes the evidence summary to
<workdir>/evidence/<model>.json for the policy engine. Evidence that cannot be
read is recorded in the summary's problems, which policies deny.`,
		Example: `  slipway evaluate --predictions preds.csv --label y --score p --threshold 0.5 --sensitive sex,age_band
  slipway evaluate --predictions preds.parquet --label y --prediction yhat --positive default --bootstrap 1000 --seed 1 --format json
  slipway evaluate --repo . --model credit-default`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.predictions != "" {
				return evaluateFile(cmd, o, &f)
			}
			return evaluateSpecs(cmd, o, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.predictions, "predictions", "", "predictions `FILE` to evaluate standalone (.csv, .csv.gz, .jsonl, .parquet)")
	fl.StringVar(&f.label, "label", "", "label `COL`umn")
	fl.StringVar(&f.prediction, "prediction", "", "prediction `COL`umn")
	fl.StringVar(&f.score, "score", "", "score `COL`umn (probability of the positive class)")
	fl.Float64Var(&f.threshold, "threshold", 0.5, "predict positive when score >= `T` (when there is no --prediction)")
	fl.StringVar(&f.positive, "positive", "", "the positive class `VALUE` of label and prediction (default 1/true)")
	fl.StringVar(&f.weight, "weight", "", "row weight `COL`umn")
	fl.StringVar(&f.task, "task", "binary", "task: binary|multiclass|regression")
	fl.StringSliceVar(&f.sensitive, "sensitive", nil, "sensitive attribute `COL`umns, comma separated")
	fl.BoolVar(&f.intersectional, "intersectional", false, "also compare every combination of the sensitive attributes")
	fl.StringArrayVar(&f.referenceGroups, "reference-group", nil, "`ATTR=VALUE` reference group for disparate impact (default: highest selection rate); repeatable")
	fl.IntVar(&f.minGroupSize, "min-group-size", 0, "groups with fewer rows (`N`) are reported and excluded from fairness gaps (default: the schema's platform.policy.minGroupSize)")
	fl.IntVar(&f.bootstrap, "bootstrap", 0, "bootstrap `N` replicates for 95% confidence intervals")
	fl.Int64Var(&f.seed, "seed", 1, "bootstrap seed `S`")
	fl.StringSliceVar(&f.models, "model", nil, "spec mode: evaluate only these model `NAME`s")
	fl.StringVar(&f.workdir, "workdir", "", "spec mode: work `DIR` the summaries are written under (default <repo>/.slipway)")
	repoFlag(cmd, &f.repo)
	formatFlag(cmd, &f.format, "text", "json")
	return cmd
}

var standaloneOnly = []string{"label", "prediction", "score", "threshold", "positive", "weight", "task", "sensitive", "intersectional", "reference-group", "min-group-size"}

func evaluateFile(cmd *cobra.Command, o *options, f *evaluateFlags) error {
	for _, name := range []string{"model", "workdir", "repo"} {
		if cmd.Flags().Changed(name) {
			return usagef("--%s is for spec mode and cannot be used with --predictions", name)
		}
	}
	task := map[string]string{"binary": metrics.Binary, "multiclass": metrics.Multiclass, metrics.Regression: metrics.Regression,
		metrics.Binary: metrics.Binary, metrics.Multiclass: metrics.Multiclass}[f.task]
	if task == "" {
		return usagef("--task %q: want binary, multiclass or regression", f.task)
	}
	if f.label == "" {
		return usagef("--label is required with --predictions")
	}
	if !cmd.Flags().Changed("min-group-size") {
		// Read when used: the schema is compiled for it, which no other
		// command should pay for at start-up.
		f.minGroupSize = spec.DefaultPolicy().MinGroupSize
	}
	cfg := metrics.Config{
		Task: task, Label: f.label, Prediction: f.prediction, Score: f.score, Weight: f.weight, Positive: f.positive,
		Sensitive: f.sensitive, Intersectional: f.intersectional, MinGroupSize: f.minGroupSize,
		Bootstrap: f.bootstrap, Seed: f.seed, Name: f.predictions,
	}
	if cmd.Flags().Changed("threshold") || (f.prediction == "" && f.score != "") {
		t := f.threshold
		cfg.Threshold = &t
	}
	if task == metrics.Binary && f.prediction == "" && f.score == "" {
		return usagef("binary evaluation needs --prediction COL, or --score COL with --threshold T")
	}
	if task != metrics.Binary && f.prediction == "" {
		return usagef("%s evaluation needs --prediction COL", f.task)
	}
	if f.minGroupSize < 1 {
		return usagef("--min-group-size %d: want at least 1", f.minGroupSize)
	}
	if f.bootstrap < 0 {
		return usagef("--bootstrap %d: want 0 or more replicates", f.bootstrap)
	}
	if f.bootstrap > 0 && task != metrics.Binary {
		return usagef("--bootstrap is supported for binary classification only")
	}
	if len(f.referenceGroups) > 0 {
		cfg.ReferenceGroup = map[string]string{}
		for _, rg := range f.referenceGroups {
			attr, val, ok := strings.Cut(rg, "=")
			if !ok || attr == "" {
				return usagef("--reference-group %q: want ATTR=VALUE", rg)
			}
			if !slices.Contains(f.sensitive, attr) && !(f.intersectional && attr == strings.Join(f.sensitive, "|")) {
				return usagef("--reference-group %q: %s is not a --sensitive attribute", rg, attr)
			}
			cfg.ReferenceGroup[attr] = val
		}
	}
	rep, err := metrics.EvaluateFile(cmd.Context(), f.predictions, cfg)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return writeJSON(o.stdout, rep)
	}
	printReport(o.stdout, rep)
	return nil
}

func evaluateSpecs(cmd *cobra.Command, o *options, f *evaluateFlags) error {
	for _, name := range standaloneOnly {
		if cmd.Flags().Changed(name) {
			return usagef("--%s needs --predictions; in spec mode the model spec says it", name)
		}
	}
	p, err := spec.Load(cmd.Context(), f.repo)
	if err != nil {
		return err
	}
	for _, m := range f.models {
		if _, ok := p.Models[m]; !ok {
			return usagef("--model %q: no such model (have %s)", m, strings.Join(p.ModelNames(), ", "))
		}
	}
	now, err := releaseNow(o)
	if err != nil {
		return err
	}
	workdir := releaseWorkDir(p.Root, f.workdir)
	opts := evidence.Options{Now: func() time.Time { return now }, SlipwayVersion: Version, Bootstrap: f.bootstrap, Seed: f.seed}
	sums, err := evidence.WriteAll(cmd.Context(), p, workdir, f.models, opts)
	if err != nil {
		return err
	}
	type written struct {
		Model    string             `json:"model"`
		Version  string             `json:"version"`
		Path     string             `json:"path"`
		SHA256   string             `json:"sha256"`
		Problems []evidence.Problem `json:"problems"`
	}
	var out []written
	for _, s := range sums {
		path := evidence.Path(workdir, s.Model)
		d, err := digest.File(path)
		if err != nil {
			return err
		}
		shown := path
		if rel, err := filepath.Rel(p.Root, path); err == nil && !strings.HasPrefix(rel, "..") {
			shown = filepath.ToSlash(rel)
		}
		out = append(out, written{Model: s.Model, Version: s.Version, Path: shown, SHA256: d, Problems: s.Problems})
		for _, pr := range s.Problems {
			o.log.Warn("evidence problem", "model", s.Model, "kind", pr.Kind, "path", pr.Path, "message", pr.Message)
		}
	}
	if f.format == "json" {
		return writeJSON(o.stdout, out)
	}
	for i, s := range sums {
		fmt.Fprintf(o.stdout, "%s %s -> %s\n", s.Model, s.Version, out[i].Path)
		if s.Evaluation != nil {
			fmt.Fprintf(o.stdout, "  %d rows", s.Evaluation.Rows)
			for _, name := range []string{"accuracy", "roc_auc", "f1", "recall", "precision", "r2", "rmse", "macro_f1"} {
				if v, ok := s.Evaluation.Overall.Get(name); ok {
					fmt.Fprintf(o.stdout, "  %s %.4f", name, v)
				}
			}
			fmt.Fprintln(o.stdout)
		}
		failing := 0
		for _, st := range s.Tests.Suites {
			if !st.Passed {
				failing++
			}
		}
		fmt.Fprintf(o.stdout, "  tests %d (%d failures, %d errors, %d skipped), %d suites not passed\n",
			s.Tests.Total.Tests, s.Tests.Total.Failures, s.Tests.Total.Errors, s.Tests.Total.Skipped, failing)
		violations := 0
		for _, src := range s.Data.Sources {
			violations += len(src.Violations)
		}
		fmt.Fprintf(o.stdout, "  data sources %d (%d quality violations)", len(s.Data.Sources), violations)
		if s.Data.Drift != nil {
			fmt.Fprintf(o.stdout, ", drift on %d features", len(s.Data.Drift.Features))
		}
		fmt.Fprintln(o.stdout)
		fmt.Fprintf(o.stdout, "  inputs %d, problems %d\n", len(s.Inputs), len(s.Problems))
		for _, pr := range s.Problems {
			fmt.Fprintf(o.stdout, "    %s %s: %s\n", pr.Kind, pr.Path, pr.Message)
		}
	}
	return nil
}

// printReport writes the report as tables: overall metrics, then per
// attribute its groups and fairness gaps.
func printReport(w io.Writer, r *metrics.Report) {
	for _, in := range r.Inputs {
		fmt.Fprintf(w, "%s  %s  %d rows  %s\n", in.Path, r.Task, r.Rows, in.SHA256)
	}
	var ci map[string]metrics.Interval
	if r.CI != nil {
		ci = r.CI.Overall
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "overall")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range r.Overall.Names() {
		line := fmt.Sprintf("  %s\t%s", name, value(r.Overall, name))
		if iv, ok := ci[name]; ok {
			line += fmt.Sprintf("\t[%.4f, %.4f]", iv[0], iv[1])
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	printClasses(w, r.Overall)
	cols := groupColumns(r.Task)
	attrs := make([]string, 0, len(r.Groups))
	for a := range r.Groups {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs)
	for _, attr := range attrs {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\tcount\t%s\t\n", attr, strings.Join(cols, "\t"))
		groups := r.Groups[attr]
		names := make([]string, 0, len(groups))
		for g := range groups {
			names = append(names, g)
		}
		sort.Strings(names)
		for _, g := range names {
			s := groups[g]
			row := []string{g, fmt.Sprint(s.Count)}
			for _, c := range cols {
				row = append(row, value(s, c))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		tw.Flush()
		if f, ok := r.Fairness[attr]; ok {
			fmt.Fprintf(w, "fairness by %s (reference group %q, compared: %s)\n", attr, f.ReferenceGroup, strings.Join(f.Compared, ", "))
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			vals := f.Values()
			for _, name := range []string{"demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference", "equalized_odds_ratio", "equal_opportunity_difference", "equal_opportunity_ratio", "disparate_impact"} {
				text := "null (" + f.Undefined[name] + ")"
				if v := vals[name]; v != nil {
					text = fmt.Sprintf("%.4f", *v)
				}
				line := fmt.Sprintf("  %s\t%s", name, text)
				if r.CI != nil {
					if iv, ok := r.CI.Fairness[attr][name]; ok {
						line += fmt.Sprintf("\t[%.4f, %.4f]", iv[0], iv[1])
					}
				}
				fmt.Fprintln(tw, line)
			}
			tw.Flush()
		}
	}
	if len(r.ExcludedGroups) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "excluded from fairness gaps")
		for _, e := range r.ExcludedGroups {
			fmt.Fprintf(w, "  %s=%s  %d rows: %s\n", e.Attribute, e.Group, e.Count, e.Reason)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if r.CI != nil {
		fmt.Fprintf(w, "\nintervals: %d%% from %d replicates, seed %d (%s)\n", int(r.CI.Level*100), r.CI.Replicates, r.CI.Seed, r.CI.Method)
	}
}

func groupColumns(task string) []string {
	switch task {
	case metrics.Regression:
		return []string{"mae", "rmse", "r2", "mape"}
	case metrics.Multiclass:
		return []string{"accuracy", "macro_precision", "macro_recall", "macro_f1"}
	}
	return []string{"tp", "fp", "tn", "fn", "tpr", "fpr", "fnr", "precision", "selection_rate", "roc_auc"}
}

func value(s metrics.Set, name string) string {
	v, ok := s.Values[name]
	switch {
	case !ok:
		return "-"
	case v == nil:
		return "null"
	case *v == float64(int64(*v)) && (name == "tp" || name == "fp" || name == "tn" || name == "fn" || name == "weight"):
		return fmt.Sprint(int64(*v))
	default:
		return fmt.Sprintf("%.4f", *v)
	}
}

// printClasses writes a multiclass report's per-class metrics and its
// confusion matrix (rows are labels, columns predictions).
func printClasses(w io.Writer, s metrics.Set) {
	conf, ok := s.Extra["confusion"].(map[string]any)
	if !ok {
		return
	}
	labels, _ := conf["labels"].([]string)
	matrix, _ := conf["matrix"].([][]float64)
	perClass, _ := s.Extra["per_class"].(map[string]map[string]*float64)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tsupport\tprecision\trecall\tf1\t\t"+strings.Join(labels, "\t")+"\t")
	for i, l := range labels {
		row := []string{l}
		for _, m := range []string{"support", "precision", "recall", "f1"} {
			v := perClass[l][m]
			switch {
			case v == nil:
				row = append(row, "null")
			case m == "support":
				row = append(row, fmt.Sprint(*v))
			default:
				row = append(row, fmt.Sprintf("%.4f", *v))
			}
		}
		row = append(row, "")
		for _, x := range matrix[i] {
			row = append(row, fmt.Sprint(x))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}
