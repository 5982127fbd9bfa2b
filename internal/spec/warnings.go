package spec

import "fmt"

// Warnings lists what in a valid platform is accepted but ignored, with
// what replaced it; slipway validate prints them.
func (p *Platform) Warnings() []Problem {
	var out []Problem
	for _, name := range p.ModelNames() {
		r := p.Models[name].Handover.Rollback
		for _, f := range []struct {
			field string
			set   bool
		}{{"tested", r.Tested}, {"testedOn", r.TestedOn != ""}} {
			if !f.set {
				continue
			}
			path := fmt.Sprintf("models.%q.handover.rollback.%s", name, f.field)
			out = append(out, Problem{Pos: p.Pos(path), Path: path,
				Message: "ignored: handover.rollback_tested reads rollback rehearsals from the verified ledger instead (run slipway rollback in an environment that is not protected)"})
		}
		a := p.Models[name].Handover.Acceptance
		if a == nil {
			continue
		}
		for _, f := range []struct {
			field string
			set   bool
		}{{"by", a.By != ""}, {"date", a.Date != ""}} {
			if !f.set {
				continue
			}
			path := fmt.Sprintf("models.%q.handover.acceptance.%s", name, f.field)
			out = append(out, Problem{Pos: p.Pos(path), Path: path,
				Message: "not evidence: handover.acceptance reads an approving review on the pull request by a member of acceptance.team instead (slipway check --github, slipway release --github)"})
		}
	}
	return out
}
