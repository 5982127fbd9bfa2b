package prodlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slipway-ml/slipway/internal/metrics"
)

// connectTimeout bounds reaching the server when the connection string
// does not say.
const connectTimeout = 10 * time.Second

// ident quotes a possibly schema-qualified name.
func ident(name string) string { return pgx.Identifier(strings.Split(name, ".")).Sanitize() }

func connect(ctx context.Context, q Query) (*pgx.Conn, error) {
	if q.ConnString == "" {
		return nil, fmt.Errorf("%w: environment variable %s is empty; it must hold the connection string", ErrUnreachable, q.Source.ConnEnv)
	}
	cfg, err := pgx.ParseConfig(q.ConnString)
	if err != nil {
		// The parse error may quote the string: say only which variable.
		return nil, fmt.Errorf("%w: the connection string in %s does not parse", ErrUnreachable, q.Source.ConnEnv)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	// Timestamps without a time zone are read as UTC.
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "slipway-monitor"
	// JIT-compiling the wide aggregate costs seconds and saves less on a
	// scan that is mostly width_bucket and hashing.
	cfg.RuntimeParams["jit"] = "off"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %s", ErrUnreachable, q.Source.ConnEnv, pgMessage(err))
	}
	return conn, nil
}

// pgMessage words a driver error without the driver's own prefix, which
// names the host and user.
func pgMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return ce.Unwrap().Error()
	}
	return err.Error()
}

// columnTypes returns the table's columns and their SQL types.
func columnTypes(ctx context.Context, conn *pgx.Conn, table string) (map[string]string, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", ident(table)).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look up table %q: %s", table, pgMessage(err))
	}
	if !exists {
		return nil, fmt.Errorf("%w: table %q does not exist", ErrInput, table)
	}
	rows, err := conn.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, ident(table))
	if err != nil {
		return nil, fmt.Errorf("read the columns of %q: %s", table, pgMessage(err))
	}
	out := map[string]string{}
	var name, typ string
	_, err = pgx.ForEachRow(rows, []any{&name, &typ}, func() error {
		out[name] = typ
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the columns of %q: %s", table, pgMessage(err))
	}
	return out, nil
}

func isNumericType(t string) bool {
	for _, p := range []string{"smallint", "integer", "bigint", "real", "double precision", "numeric"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func isTimeType(t string) bool {
	return strings.HasPrefix(t, "timestamp") || t == "date"
}

// checkColumns names every column the query needs that the table lacks or
// holds with the wrong type.
func checkColumns(table string, types map[string]string, need map[string]string) error {
	var probs []string
	for _, col := range slices.Sorted(mapsKeys(need)) {
		t, ok := types[col]
		switch want := need[col]; {
		case !ok:
			probs = append(probs, fmt.Sprintf("column %q does not exist", col))
		case want == "number" && !isNumericType(t):
			probs = append(probs, fmt.Sprintf("column %q has type %s, want a number (the reference snapshot's values are numeric)", col, t))
		case want == "timestamp" && !isTimeType(t):
			probs = append(probs, fmt.Sprintf("column %q has type %s, want a timestamp", col, t))
		}
	}
	if len(probs) > 0 {
		cols := slices.Sorted(mapsKeys(types))
		return fmt.Errorf("%w: table %q: %s (its columns: %s)", ErrInput, table, strings.Join(probs, "; "), strings.Join(cols, ", "))
	}
	return nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// set is one grouping set of the aggregate query.
type set struct {
	kind string // bin, cat, version, outcome
	col  string // the column (bin, cat) or group attribute (outcome)
	// exprs index the query's grouping expressions.
	exprs []int
}

// aggregateSQL builds the one query that counts everything: a grouping
// set per histogram, category count, version count and confusion matrix,
// over one scan of the window. It returns the SQL, its arguments and the
// sets in the order of the query's GROUPING columns.
func aggregateSQL(q Query) (string, []any, []set) {
	src := q.Source
	var exprs []string
	var args []any
	var sets []set
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	add := func(e string) int {
		exprs = append(exprs, e)
		return len(exprs) - 1
	}
	col := func(c string) string { return "l." + pgx.Identifier{c}.Sanitize() }
	for _, c := range slices.Sorted(mapsKeys(q.Numeric)) {
		edges := q.Numeric[c]
		e := "0"
		if len(edges) > 0 {
			// Bins are (e[i-1], e[i]]: the bin is the number of edges
			// below x. width_bucket counts thresholds <= its operand, so
			// it is given -x against the negated edges, reversed.
			neg := make([]float64, len(edges))
			for i, v := range edges {
				neg[len(edges)-1-i] = -v
			}
			e = fmt.Sprintf("%d - width_bucket(-(%s)::float8, %s::float8[])", len(edges), col(c), arg(neg))
		}
		e = fmt.Sprintf("CASE WHEN %s IS NULL THEN NULL ELSE %s END", col(c), e)
		sets = append(sets, set{kind: "bin", col: c, exprs: []int{add(e)}})
	}
	for _, c := range q.Categorical {
		sets = append(sets, set{kind: "cat", col: c, exprs: []int{add(col(c) + "::text")}})
	}
	vset := set{kind: "version", exprs: []int{add(col(src.Version) + "::text")}}
	if len(q.Cuts) > 0 {
		// The epoch is the number of cuts at or before the timestamp.
		vset.exprs = append(vset.exprs, add(fmt.Sprintf("width_bucket(%s::timestamptz, %s::timestamptz[])", col(src.Timestamp), arg(q.Cuts))))
	}
	sets = append(sets, vset)
	from := ident(src.Table) + " l"
	if q.predicted() {
		pred := col(src.Prediction) + "::text"
		if src.Prediction == "" {
			pred = fmt.Sprintf("(%s >= %s::float8)::text", col(src.Score), arg(*q.Threshold))
		}
		p, y := add(pred), add("o."+pgx.Identifier{src.Outcomes.Label}.Sanitize()+"::text")
		sets = append(sets, set{kind: "outcome", exprs: []int{p, y}})
		for _, g := range q.Groups {
			sets = append(sets, set{kind: "outcome", col: g, exprs: []int{add(col(g) + "::text"), p, y}})
		}
		from += fmt.Sprintf(" LEFT JOIN %s o ON o.%s = l.%s", ident(src.Outcomes.Table),
			pgx.Identifier{src.Outcomes.ID}.Sanitize(), pgx.Identifier{src.ID}.Sanitize())
	}
	sets = append(sets, set{kind: "total"})
	var where []string
	if !q.Window.From.IsZero() {
		where = append(where, fmt.Sprintf("%s >= %s", col(src.Timestamp), arg(q.Window.From)))
	}
	if !q.Window.To.IsZero() {
		where = append(where, fmt.Sprintf("%s < %s", col(src.Timestamp), arg(q.Window.To)))
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := range exprs {
		fmt.Fprintf(&b, "GROUPING(g%d), g%d, ", i, i)
	}
	b.WriteString("count(*) FROM (SELECT ")
	for i, e := range exprs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s AS g%d", e, i)
	}
	fmt.Fprintf(&b, " FROM %s", from)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(") s GROUP BY GROUPING SETS (")
	for i, s := range sets {
		if i > 0 {
			b.WriteString(", ")
		}
		parts := make([]string, len(s.exprs))
		for j, e := range s.exprs {
			parts[j] = fmt.Sprintf("g%d", e)
		}
		b.WriteString("(" + strings.Join(parts, ", ") + ")")
	}
	b.WriteString(")")
	return b.String(), args, sets
}

// SQL returns the aggregate query for q, as Aggregate runs it, with its
// arguments; the benchmark runs the same aggregation by hand.
func SQL(q Query) (string, []any) {
	s, args, _ := aggregateSQL(q)
	return s, args
}

func aggregatePG(ctx context.Context, q Query) (*Counts, error) {
	conn, err := connect(ctx, q)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	src := q.Source
	types, err := columnTypes(ctx, conn, src.Table)
	if err != nil {
		return nil, err
	}
	// A column that plays two roles must suit both: "any" never
	// replaces a stricter want.
	need := map[string]string{}
	want := func(col, what string) {
		if need[col] == "" || need[col] == "any" {
			need[col] = what
		}
	}
	want(src.Timestamp, "timestamp")
	want(src.Version, "any")
	want(src.ID, "any")
	for c := range q.Numeric {
		want(c, "number")
	}
	for _, c := range q.Categorical {
		want(c, "any")
	}
	if q.predicted() {
		for _, g := range q.Groups {
			want(g, "any")
		}
		if src.Prediction != "" {
			want(src.Prediction, "any")
		} else {
			want(src.Score, "number")
		}
	}
	if err := checkColumns(src.Table, types, need); err != nil {
		return nil, err
	}
	c := newCounts(q)
	c.Identity = Identity{Kind: "postgres", Table: src.Table}
	if q.predicted() {
		otypes, err := columnTypes(ctx, conn, src.Outcomes.Table)
		if err != nil {
			return nil, err
		}
		if err := checkColumns(src.Outcomes.Table, otypes, map[string]string{src.Outcomes.ID: "any", src.Outcomes.Label: "any"}); err != nil {
			return nil, err
		}
		c.Identity.OutcomesTable = src.Outcomes.Table
		c.ScoredPrediction = src.Prediction == ""
	}
	sql, args, sets := aggregateSQL(q)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("aggregate %q: %s", src.Table, pgMessage(err))
	}
	defer rows.Close()
	nexpr := 0
	for _, s := range sets {
		for _, e := range s.exprs {
			nexpr = max(nexpr, e+1)
		}
	}
	grouping := make([]int32, nexpr)
	vals := make([]*string, nexpr)
	dest := make([]any, 0, 2*nexpr+1)
	for i := range nexpr {
		dest = append(dest, &grouping[i], &vals[i])
	}
	var count int64
	dest = append(dest, &count)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("aggregate %q: %s", src.Table, pgMessage(err))
		}
		s, ok := matchSet(sets, grouping)
		if !ok {
			continue
		}
		val := func(i int) (string, bool) {
			if vals[s.exprs[i]] == nil {
				return "", false
			}
			return *vals[s.exprs[i]], true
		}
		switch s.kind {
		case "total":
			c.Rows = count
		case "bin":
			v, ok := val(0)
			if !ok {
				c.Nulls[s.col] += count
				continue
			}
			bin, err := strconv.Atoi(v)
			edges := q.Numeric[s.col]
			if err != nil || bin < 0 || bin > len(edges) {
				return nil, fmt.Errorf("aggregate %q: column %q: bin %q out of range", src.Table, s.col, v)
			}
			if c.Bins[s.col] == nil {
				c.Bins[s.col] = make([]int64, len(edges)+1)
			}
			c.Bins[s.col][bin] += count
		case "cat":
			v, ok := val(0)
			if !ok {
				c.Nulls[s.col] += count
				continue
			}
			if c.Categories[s.col] == nil {
				c.Categories[s.col] = map[string]int64{}
			}
			c.Categories[s.col][v] += count
		case "version":
			v, _ := val(0)
			epoch := 0
			if len(s.exprs) > 1 {
				e, _ := val(1)
				if epoch, err = strconv.Atoi(e); err != nil || epoch < 0 || epoch > len(q.Cuts) {
					return nil, fmt.Errorf("aggregate %q: epoch %q out of range", src.Table, e)
				}
			}
			c.addVersion(epoch, v, count)
		case "outcome":
			off := 0
			cell := Cell{}
			if s.col != "" {
				g, ok := val(0)
				if !ok {
					g = metrics.Missing
				}
				cell.Attr, cell.Group, off = s.col, g, 1
			}
			p, pok := val(off)
			y, yok := val(off + 1)
			if !pok || !yok {
				continue // unlabelled, or no prediction logged
			}
			cell.Pred, cell.Label = p, y
			c.Outcomes[cell] += count
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("aggregate %q: %s", src.Table, pgMessage(err))
	}
	for col, edges := range q.Numeric {
		if c.Bins[col] == nil {
			c.Bins[col] = make([]int64, len(edges)+1)
		}
	}
	return c, nil
}

// matchSet finds the set a result row belongs to: the one whose
// expressions, and only those, are grouped (GROUPING 0).
func matchSet(sets []set, grouping []int32) (set, bool) {
next:
	for _, s := range sets {
		for i, g := range grouping {
			if (g == 0) != slices.Contains(s.exprs, i) {
				continue next
			}
		}
		return s, true
	}
	return set{}, false
}
