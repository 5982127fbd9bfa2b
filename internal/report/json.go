package report

import (
	"encoding/json"
	"io"
)

// JSON writes the report as indented JSON following
// docs/report-schema.json.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
