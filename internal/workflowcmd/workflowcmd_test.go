package workflowcmd

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
		want  string
	}{
		{"annotation", func(b *bytes.Buffer) error {
			return Annotation(b, "error", "models/a,b:c.cue", 3, 3, "deny: x", "line one\nline two 100%")
		}, "::error file=models/a%2Cb%3Ac.cue,line=3,endLine=3,title=deny%3A x::line one%0Aline two 100%25\n"},
		{"injection", func(b *bytes.Buffer) error {
			return Annotation(b, "warning", "", 0, 0, "", "x\n::error::forged")
		}, "::warning::x%0A::error::forged\n"},
		{"no line", func(b *bytes.Buffer) error {
			return Write(b, "notice", []Prop{{"file", "f.cue"}, {"col", "2"}}, "m")
		}, "::notice file=f.cue,col=2::m\n"},
	} {
		var b bytes.Buffer
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, b.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
