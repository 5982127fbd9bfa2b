// Package alerting reads alert conditions as PromQL. It is the one package
// that imports the Prometheus parser; the rest of Slipway asks it whether a
// condition parses, which metrics it reads and whether it compares
// anything, and renders the canonical form of a parsed condition.
package alerting

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// Expr is a parsed PromQL expression.
type Expr struct {
	e parser.Expr
}

// SyntaxError is a condition that is not PromQL. Offset is the byte offset
// of the fault in the expression (0-based); Line and Column are 1-based
// inside the expression.
type SyntaxError struct {
	Offset int
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// The parser's defaults: experimental functions are refused, so a
// condition that parses here parses on a stock Prometheus.
var promql = parser.NewParser(parser.Options{})

// Parse parses expr; an error is always a *SyntaxError.
func Parse(expr string) (*Expr, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: "empty expression"}
	}
	e, err := promql.ParseExpr(expr)
	if err == nil {
		return &Expr{e: e}, nil
	}
	se := &SyntaxError{Line: 1, Column: 1, Msg: err.Error()}
	var errs parser.ParseErrors
	var one *parser.ParseErr
	switch {
	case errors.As(err, &errs) && len(errs) > 0:
		se.setPos(expr, int(errs[0].PositionRange.Start), errs[0].Err)
	case errors.As(err, &one):
		se.setPos(expr, int(one.PositionRange.Start), one.Err)
	}
	return nil, se
}

func (se *SyntaxError) setPos(expr string, off int, err error) {
	if err != nil {
		se.Msg = err.Error()
	}
	off = min(max(off, 0), len(expr))
	se.Offset = off
	before := expr[:off]
	se.Line = strings.Count(before, "\n") + 1
	se.Column = off - strings.LastIndexByte(before, '\n')
}

// Metrics lists the metric names the expression reads, sorted and unique.
// A selector without a name (`{__name__=~"x.*"}`) contributes none.
func (x *Expr) Metrics() []string {
	seen := map[string]bool{}
	parser.Inspect(x.e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == "__name__" && m.Type.String() == "=" {
					name = m.Value
				}
			}
		}
		if name != "" {
			seen[name] = true
		}
		return nil
	})
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Compares reports whether the expression decides something: it filters
// with a comparison operator or asks whether series are absent. A bare
// selector or arithmetic fires whenever the series exist, whatever their
// value.
func (x *Expr) Compares() bool {
	found := false
	parser.Inspect(x.e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.BinaryExpr:
			if n.Op.IsComparisonOperator() && !n.ReturnBool {
				found = true
			}
		case *parser.Call:
			if n.Func != nil && (n.Func.Name == "absent" || n.Func.Name == "absent_over_time") {
				found = true
			}
		}
		return nil
	})
	return found
}

// String is the expression in Prometheus's canonical form.
func (x *Expr) String() string { return x.e.String() }
