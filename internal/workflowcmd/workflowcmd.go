// Package workflowcmd writes GitHub Actions workflow commands
// (::error file=F,line=L,title=T::message), the one encoding both
// `check --format github` and the degraded GitHub report use.
package workflowcmd

import (
	"fmt"
	"io"
	"strings"
)

// Prop is one property of a command, such as file or line; properties are
// written in the order given.
type Prop struct{ Key, Value string }

// The runner's encoding: data may not contain line breaks or a bare %,
// properties neither, nor the : and , that separate them. A message
// therefore cannot end its command early or inject another.
var (
	data     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	property = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// Write writes one command: name is error, warning, notice, group, ...
func Write(w io.Writer, name string, props []Prop, msg string) error {
	var b strings.Builder
	b.WriteString("::" + name)
	for i, p := range props {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(p.Key + "=" + property.Replace(p.Value))
	}
	b.WriteString("::" + data.Replace(msg) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Annotation writes an error, warning or notice on a file's line; line 0
// leaves the line (and endLine) out, file "" the file.
func Annotation(w io.Writer, level, file string, line, endLine int, title, msg string) error {
	var props []Prop
	if file != "" {
		props = append(props, Prop{"file", file})
		if line > 0 {
			props = append(props, Prop{"line", fmt.Sprint(line)})
			if endLine > 0 {
				props = append(props, Prop{"endLine", fmt.Sprint(endLine)})
			}
		}
	}
	if title != "" {
		props = append(props, Prop{"title", title})
	}
	return Write(w, level, props, msg)
}
