package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJSONAsOneEncoder: the report written member by member and element
// by element is byte for byte what one json.Encoder writes for the whole
// report: nil lists stay null, empty ones [], markup unescaped, and lists
// longer than one batch of elements keep their order.
func TestJSONAsOneEncoder(t *testing.T) {
	evil := `<b>"x" & y</b>`
	var models []Dossier
	for i := range 100 {
		models = append(models, Dossier{Model: fmt.Sprintf("m%03d", i), Owner: evil, Releases: []ReleaseRow{{Record: evil, Problems: []string{evil}}}, Gaps: []string{}})
	}
	for _, tc := range []struct {
		name string
		rep  *Report
	}{
		{"zero", &Report{}},
		{"empty lists", &Report{Schema: SchemaVersion, Environments: []string{}, Portfolio: []PortfolioRow{}, Waivers: []WaiverRow{}, Failed: []ReleaseRow{},
			Coverage: []Framework{}, Models: []Dossier{}, Sources: []SourceLegend{}}},
		{"one of each", &Report{Platform: evil, Environments: []string{"staging", "production"}, Waivers: []WaiverRow{{Rule: evil, Reason: evil}},
			Coverage: []Framework{{Framework: evil, Items: []CoverageItem{{ID: evil, Models: []CoverageCell{{Model: "m", Note: evil}}}}}}, Models: models[:1]}},
		{"more than a batch", &Report{Schema: SchemaVersion, Models: models, Sources: []SourceLegend{{SourceSigned, evil}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tc.rep); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := tc.rep.JSON(&got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want.String(), got.String()); d != "" {
				t.Errorf("JSON (-one encoder +streamed):\n%s", d)
			}
		})
	}
}
