// Package prcomment turns a check result document into what a reviewer reads
// on a pull request: the sticky comment's Markdown, the check run's summary
// and the list of annotations on spec lines.
//
// It decodes the check result from JSON into its own small types, mirroring
// the contract in CONTRACTS.md, so the rendering depends on the document and
// not on the Go packages that produce it.
package prcomment

import (
	"encoding/json"
	"fmt"
)

// Result is the check result document (`slipway check --format json`).
type Result struct {
	Verdict        string            `json:"verdict"`
	Platform       string            `json:"platform"`
	Commit         string            `json:"commit"`
	Base           string            `json:"base"`
	GeneratedAt    string            `json:"generated_at"`
	SlipwayVersion string            `json:"slipway_version"`
	Units          []Unit            `json:"units"`
	Shared         []*Plan           `json:"shared"`
	Waivers        []Waiver          `json:"waivers"`
	Errors         []json.RawMessage `json:"errors"`
}

// Unit is the check of one model in one environment.
type Unit struct {
	Model        string         `json:"model"`
	ModelVersion string         `json:"model_version"`
	Environment  string         `json:"environment"`
	Verdict      string         `json:"verdict"`
	Plan         *Plan          `json:"plan"`
	Evidence     *Evidence      `json:"evidence"`
	Results      []PolicyResult `json:"results"`
}

// Plan is the plan summary of one stack.
type Plan struct {
	Stack       string     `json:"stack"`
	Environment string     `json:"environment"`
	Model       string     `json:"model"`
	Reasons     []string   `json:"reasons"`
	Changes     Changes    `json:"changes"`
	Resources   []Resource `json:"resources"`
}

// Changes counts a plan's resource actions.
type Changes struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Replace int `json:"replace"`
}

// Resource is one planned resource change; values are never shown, only the
// names of changed attributes.
type Resource struct {
	Address string   `json:"address"`
	Type    string   `json:"type"`
	Actions []string `json:"actions"`
	Changed []string `json:"changed"`
}

// Evidence is the part of a unit's evidence a reviewer sees.
type Evidence struct {
	Path     string                               `json:"path"`
	SHA256   string                               `json:"sha256"`
	Headline map[string]*float64                  `json:"headline"`
	Baseline map[string]*float64                  `json:"baseline"`
	Fairness map[string]map[string]FairnessFigure `json:"fairness"`
}

// FairnessFigure is one fairness metric of one attribute and its bound.
type FairnessFigure struct {
	Value     *float64  `json:"value"`
	Threshold Threshold `json:"threshold"`
}

// Threshold bounds a value; nil ends are open.
type Threshold struct {
	Min *float64 `json:"min"`
	Max *float64 `json:"max"`
}

// PolicyResult is one rule's judgement of a unit.
type PolicyResult struct {
	Rule        string          `json:"rule"`
	Severity    string          `json:"severity"`
	Outcome     string          `json:"outcome"`
	Message     string          `json:"message"`
	Model       string          `json:"model"`
	Environment string          `json:"environment"`
	Pos         *Pos            `json:"pos"`
	Field       string          `json:"field"`
	Controls    []Control       `json:"controls"`
	Waiver      json.RawMessage `json:"waiver"`
}

// Pos is a place in a spec file.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// Control is a regulatory control a rule implements.
type Control struct {
	Framework string `json:"framework"`
	ID        string `json:"id"`
}

// Waiver is a waiver named by the platform and its status at check time.
type Waiver struct {
	Rule        string `json:"rule"`
	Model       string `json:"model"`
	Environment string `json:"environment"`
	Reason      string `json:"reason"`
	ApprovedBy  string `json:"approvedBy"`
	Expires     string `json:"expires"`
	Ticket      string `json:"ticket"`
	Status      string `json:"status"`
	Pos         *Pos   `json:"pos"`
}

// Verdicts and outcomes of the check result contract.
const (
	Pass   = "pass"
	Warn   = "warn"
	Deny   = "deny"
	Waived = "waived"
)

// Decode parses a check result document and checks the fields the
// rendering relies on.
func Decode(data []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode check result: %w", err)
	}
	switch r.Verdict {
	case Pass, Warn, Deny:
	default:
		return nil, fmt.Errorf("decode check result: verdict %q: want pass, warn or deny", r.Verdict)
	}
	for i, u := range r.Units {
		if u.Model == "" || u.Environment == "" {
			return nil, fmt.Errorf("decode check result: units[%d]: model and environment are required", i)
		}
	}
	return &r, nil
}
