package check

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/slipway-ml/slipway/internal/checkresult"
	"github.com/slipway-ml/slipway/internal/policy"
	"github.com/slipway-ml/slipway/internal/workflowcmd"
)

// Formats `slipway check` prints.
var Formats = []string{"text", "json", "sarif", "junit", "github"}

// Write prints the result in format. rules is the policy catalogue, which
// SARIF lists as the tool's rules.
func Write(w io.Writer, r *Result, format string, rules []policy.Rule) error {
	// Buffered: the text table alone made 300,000 small writes, one
	// system call each on a terminal or pipe, for 2,000 units.
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := write(bw, r, format, rules); err != nil {
		return err
	}
	return bw.Flush()
}

func write(w io.Writer, r *Result, format string, rules []policy.Rule) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "json":
		return checkresult.Encode(w, &r.Result)
	case "sarif":
		return writeSARIF(w, r, rules)
	case "junit":
		return writeJUnit(w, r)
	case "github":
		return writeGitHub(w, r)
	}
	return fmt.Errorf("unknown format %q", format)
}

func upper(o policy.Outcome) string { return strings.ToUpper(string(o)) }

// outcomeText names a finding's outcome for people; insufficient
// evidence also says what it does here.
func outcomeText(f checkresult.Finding) string {
	if f.Outcome == policy.OutcomeInsufficient {
		return fmt.Sprintf("INSUFFICIENT EVIDENCE (%s)", f.Severity)
	}
	return upper(f.Outcome)
}

// writeText prints a compact table per unit: its findings, denies first,
// and a count of the rules that passed.
func writeText(w io.Writer, r *Result) error {
	var total Counts
	verdicts := map[policy.Outcome]int{}
	for _, u := range r.Units {
		c := u.Count()
		total.Deny += c.Deny
		total.Warn += c.Warn
		total.Waived += c.Waived
		total.Pass += c.Pass
		total.Insufficient += c.Insufficient
		verdicts[u.Verdict]++
	}
	fmt.Fprintf(w, "slipway check: %s  platform %s, %d unit(s): %d deny, %d warn, %d pass\n",
		upper(r.Verdict), r.Platform, len(r.Units), verdicts[policy.OutcomeDeny], verdicts[policy.OutcomeWarn], verdicts[policy.OutcomePass])
	for _, u := range r.Units {
		c := u.Count()
		version := ""
		if u.ModelVersion != "" {
			version = " " + u.ModelVersion
		}
		insufficient := ""
		if c.Insufficient > 0 {
			insufficient = fmt.Sprintf("%d insufficient evidence, ", c.Insufficient)
		}
		fmt.Fprintf(w, "\n%s%s @ %s  %s  (%d deny, %s%d warn, %d waived, %d pass)%s\n",
			u.Model, version, u.Environment, upper(u.Verdict), c.Deny, insufficient, c.Warn, c.Waived, c.Pass, planText(u))
		if u.Evidence != nil {
			if b := u.Evidence.BaselineText(u.Environment); b != "" {
				fmt.Fprintf(w, "  baseline: %s\n", b)
			}
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, res := range u.Results {
			if res.Outcome.Quiet() {
				continue
			}
			msg := res.Message
			if res.Waiver != nil {
				msg += fmt.Sprintf(" [waived: %s, approved by %s, expires %s]", res.Waiver.Ticket, res.Waiver.ApprovedBy, res.Waiver.Expires)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", outcomeText(res), res.Rule, res.Pos, msg)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, s := range r.Shared {
		fmt.Fprintf(w, "\nshared %s  +%d ~%d -%d ±%d\n", s.Stack, s.Changes.Create, s.Changes.Update, s.Changes.Delete, s.Changes.Replace)
	}
	for _, wv := range r.Waivers {
		if wv.Status != policy.WaiverActive {
			fmt.Fprintf(w, "\nwaiver %s for %s/%s at %s is %s\n", wv.Rule, wv.Model, wv.Environment, wv.Pos, wv.Status)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "\nerror: %s\n", e)
	}
	return nil
}

func planText(u Unit) string {
	if u.Plan == nil {
		return ""
	}
	ch := u.Plan.Changes
	return fmt.Sprintf("  plan +%d ~%d -%d ±%d", ch.Create, ch.Update, ch.Delete, ch.Replace)
}

// findings are every non-pass result, in unit order.
func findings(r *Result) []checkresult.Finding {
	var out []checkresult.Finding
	for _, u := range r.Units {
		for _, res := range u.Results {
			if !res.Outcome.Quiet() {
				out = append(out, res)
			}
		}
	}
	return out
}

// writeGitHub prints workflow commands that annotate the spec lines:
// errors for denials, warnings for warnings, notices for waived results.
func writeGitHub(w io.Writer, r *Result) error {
	for _, res := range findings(r) {
		cmd := map[policy.Outcome]string{policy.OutcomeDeny: "error", policy.OutcomeWarn: "warning", policy.OutcomeWaived: "notice"}[res.Outcome.Verdict(res.Severity)]
		if res.Outcome == policy.OutcomeWaived {
			cmd = "notice"
		}
		var props []workflowcmd.Prop
		if res.Pos.File != "" {
			props = append(props, workflowcmd.Prop{Key: "file", Value: res.Pos.File})
			if res.Pos.Line > 0 {
				props = append(props, workflowcmd.Prop{Key: "line", Value: fmt.Sprint(res.Pos.Line)})
			}
			if res.Pos.Column > 0 {
				props = append(props, workflowcmd.Prop{Key: "col", Value: fmt.Sprint(res.Pos.Column)})
			}
		}
		props = append(props, workflowcmd.Prop{Key: "title", Value: fmt.Sprintf("%s (%s @ %s)", res.Rule, res.Model, res.Environment)})
		msg := res.Message
		if res.Outcome == policy.OutcomeInsufficient {
			msg = "insufficient evidence: " + msg
		}
		if res.Waiver != nil {
			msg = fmt.Sprintf("waived by %s until %s: %s", res.Waiver.Ticket, res.Waiver.Expires, msg)
		}
		if err := workflowcmd.Write(w, cmd, props, msg); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "slipway check: %s (%d unit(s))\n", r.Verdict, len(r.Units))
	return err
}

// JUnit: one test suite per unit, one test case per rule result.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// writeJUnit reports denials as failures, waived results as skipped and
// warnings as passing cases with the warning on system-out, so CI test
// views show the gate like a test run.
func writeJUnit(w io.Writer, r *Result) error {
	doc := junitSuites{Name: "slipway check " + r.Platform}
	for _, u := range r.Units {
		s := junitSuite{Name: fmt.Sprintf("%s@%s", u.Model, u.Environment)}
		for _, res := range u.Results {
			tc := junitCase{Name: res.Rule, Classname: s.Name, File: res.Pos.File, Line: res.Pos.Line}
			where := res.Pos.String()
			switch res.Outcome {
			case policy.OutcomeDeny:
				tc.Failure = &junitMessage{Message: res.Message, Type: string(res.Severity), Text: where + ": " + res.Message}
				s.Failures++
			case policy.OutcomeWaived:
				tc.Skipped = &junitMessage{Message: fmt.Sprintf("waived by %s until %s: %s", res.Waiver.Ticket, res.Waiver.Expires, res.Message)}
				s.Skipped++
			case policy.OutcomeWarn:
				tc.SystemOut = "warning: " + where + ": " + res.Message
			case policy.OutcomeInsufficient:
				if res.Severity == policy.SeverityDeny {
					tc.Failure = &junitMessage{Message: "insufficient evidence: " + res.Message, Type: string(policy.OutcomeInsufficient), Text: where + ": insufficient evidence: " + res.Message}
					s.Failures++
					break
				}
				tc.SystemOut = "insufficient evidence: " + where + ": " + res.Message
			}
			s.Cases = append(s.Cases, tc)
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// SARIF 2.1.0, the subset code-scanning tools read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
	// OriginalURIBaseIDs anchors result paths at the platform repository.
	OriginalURIBaseIDs map[string]sarifLocationURI `json:"originalUriBaseIds,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations,omitempty"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	Properties   map[string]any     `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifLocationURI `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifLocationURI struct {
	URI       string `json:"uri,omitempty"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

func level(s policy.Severity) string {
	if s == policy.SeverityWarn {
		return "warning"
	}
	return "error"
}

// writeSARIF lists every catalogued rule and one result per finding;
// waived results carry an external suppression with the waiver's reason.
func writeSARIF(w io.Writer, r *Result, rules []policy.Rule) error {
	driver := sarifDriver{Name: "slipway", InformationURI: "https://github.com/slipway-ml/slipway", Version: r.SlipwayVersion}
	index := map[string]int{}
	addRule := func(ru policy.Rule) {
		index[ru.ID] = len(driver.Rules)
		var tags []string
		for _, c := range ru.Controls {
			tags = append(tags, c.Framework+" "+c.ID)
		}
		sort.Strings(tags)
		desc := ru.Description
		if desc == "" {
			desc = ru.Title
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: ru.ID, Name: ru.ID, ShortDescription: sarifText{ru.Title}, FullDescription: sarifText{desc},
			DefaultConfiguration: sarifConfig{Level: level(ru.Severity)},
			Properties:           map[string]any{"tags": append([]string{"slipway", ru.Package}, tags...), "controls": ru.Controls},
		})
	}
	for _, ru := range rules {
		addRule(ru)
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{},
		OriginalURIBaseIDs: map[string]sarifLocationURI{"PLATFORM": {URI: "./"}}}
	for _, res := range findings(r) {
		if _, ok := index[res.Rule]; !ok {
			addRule(policy.Rule{ID: res.Rule, Title: res.Rule, Severity: res.Severity, Controls: res.Controls})
			run.Tool.Driver = driver
		}
		sr := sarifResult{
			RuleID: res.Rule, RuleIndex: index[res.Rule], Level: level(res.Severity),
			Message:    sarifText{fmt.Sprintf("%s (%s @ %s)", res.Message, res.Model, res.Environment)},
			Properties: map[string]any{"model": res.Model, "environment": res.Environment, "outcome": res.Outcome},
		}
		if res.Outcome == policy.OutcomeWarn {
			sr.Level = "warning"
		}
		if res.Pos.File != "" {
			loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifLocationURI{URI: res.Pos.File, URIBaseID: "PLATFORM"}}}
			if res.Pos.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: res.Pos.Line, StartColumn: res.Pos.Column}
			}
			sr.Locations = []sarifLocation{loc}
		}
		if res.Waiver != nil {
			sr.Suppressions = []sarifSuppression{{Kind: "external", Justification: fmt.Sprintf("%s (%s, approved by %s, expires %s)", res.Waiver.Reason, res.Waiver.Ticket, res.Waiver.ApprovedBy, res.Waiver.Expires)}}
		}
		run.Results = append(run.Results, sr)
	}
	run.Tool.Driver = driver
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
