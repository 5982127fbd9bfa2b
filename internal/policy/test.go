package policy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult is the outcome of one Rego test.
type TestResult struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	Location string        `json:"location"`
	Outcome  string        `json:"outcome"` // pass, fail, error, skip
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// FileCoverage is the share of a policy file's lines the tests evaluated.
type FileCoverage struct {
	File            string  `json:"file"`
	Coverage        float64 `json:"coverage"`
	CoveredLines    int     `json:"covered_lines"`
	NotCoveredLines int     `json:"not_covered_lines"`
	// NotCovered lists the lines (or ranges such as 12-14) never evaluated.
	NotCovered []string `json:"not_covered,omitempty"`
}

// TestReport is the outcome of `slipway policy test`.
type TestReport struct {
	Results  []TestResult   `json:"results"`
	Passed   int            `json:"passed"`
	Failed   int            `json:"failed"`
	Skipped  int            `json:"skipped"`
	Coverage float64        `json:"coverage"`
	Files    []FileCoverage `json:"files"`
}

// OK reports whether every test passed.
func (r TestReport) OK() bool { return r.Failed == 0 }

// RunTests runs the Rego tests (test_* rules of *_test.rego files) of the
// built-in packs and of the repository's policies/ directory through OPA's
// test runner, with coverage of the policy files (tests excluded).
func RunTests(ctx context.Context, repoDir string) (TestReport, error) {
	var rep TestReport
	mods, _, err := loadModules(repoDir, true)
	if err != nil {
		return rep, err
	}
	store := inmem.New()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return rep, err
	}
	defer store.Abort(ctx, txn)
	cov := cover.New()
	runner := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true).WithCapabilities(capabilities())).
		SetStore(store).
		SetModules(mods).
		SetCoverageQueryTracer(cov).
		SetDefaultRegoVersion(ast.RegoV1).
		SetTimeout(time.Minute)
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		return rep, fmt.Errorf("%w: %v", ErrLoad, err)
	}
	for r := range ch {
		tr := TestResult{Package: strings.TrimPrefix(r.Package, "data."), Name: r.Name, Duration: r.Duration, Outcome: "pass"}
		if r.Location != nil {
			tr.Location = fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
		}
		switch {
		case r.Skip:
			tr.Outcome = "skip"
			rep.Skipped++
		case r.Error != nil:
			tr.Outcome = "error"
			tr.Error = r.Error.Error()
			rep.Failed++
		case r.Fail:
			tr.Outcome = "fail"
			rep.Failed++
		default:
			rep.Passed++
		}
		rep.Results = append(rep.Results, tr)
	}
	sort.SliceStable(rep.Results, func(i, j int) bool { return rep.Results[i].Location < rep.Results[j].Location })
	policyMods := map[string]*ast.Module{}
	for name, m := range mods {
		if !strings.HasSuffix(name, "_test.rego") {
			policyMods[name] = m
		}
	}
	report := cov.Report(policyMods)
	rep.Coverage = report.Coverage
	for name, fr := range report.Files {
		fc := FileCoverage{File: name, Coverage: fr.Coverage, CoveredLines: fr.CoveredLines, NotCoveredLines: fr.NotCoveredLines}
		for _, rg := range fr.NotCovered {
			if rg.Start.Row == rg.End.Row {
				fc.NotCovered = append(fc.NotCovered, fmt.Sprint(rg.Start.Row))
			} else {
				fc.NotCovered = append(fc.NotCovered, fmt.Sprintf("%d-%d", rg.Start.Row, rg.End.Row))
			}
		}
		rep.Files = append(rep.Files, fc)
	}
	sort.Slice(rep.Files, func(i, j int) bool { return rep.Files[i].File < rep.Files[j].File })
	return rep, nil
}
