package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/internal/markdown"
)

// TestMarkdownHostileNames: names, owners, reasons and sources come from
// specs and evidence a pull request's author writes; in the Markdown report
// none may become a link, an image or HTML, or split a table cell.
func TestMarkdownHostileNames(t *testing.T) {
	const evil = "![pixel](https://evil.example/p.png) [click](https://evil.example) `<img src=x onerror=alert(1)>`"
	r := &Report{
		Platform:     "lending" + evil,
		Environments: []string{"prod" + evil},
		Summary:      Summary{Attention: []string{"look " + evil}},
		Portfolio:    []PortfolioRow{{Model: "m|x" + evil, Owner: "@owner " + evil, LatestDecision: "allow" + evil}},
		Waivers:      []WaiverRow{{Model: "m", Rule: "r`" + evil, Reason: evil, Source: "spec" + evil}},
		Models:       []Dossier{{Model: "m" + evil, Owner: evil, Identity: "spec" + evil}},
	}
	var buf bytes.Buffer
	if err := r.Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	out := markdown.WithoutCodeSpans(buf.String())
	for _, bad := range []string{"<img", "![", "](https://evil", "[click]"} {
		if i := strings.Index(out, bad); i >= 0 {
			t.Errorf("%q got through: …%s…", bad, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	if strings.Contains(buf.String(), "@owner") {
		t.Error("an @mention would notify")
	}
}
