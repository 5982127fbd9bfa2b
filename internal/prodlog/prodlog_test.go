package prodlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/pgtest"
	"github.com/slipway-ml/slipway/internal/spec"
)

// logs are the rows both sources hold: ts, id, version, income, region,
// sex, score, prediction; outcomes are id, label.
var logs = [][]string{
	{"2026-01-01T00:00:00Z", "r1", "2.3.0", "10", "north", "f", "0.9", "1"},
	{"2026-01-01T01:00:00Z", "r2", "2.3.0", "20", "south", "m", "0.2", "0"},
	{"2026-01-02T00:00:00Z", "r3", "2.3.0", "30", "north", "m", "0.7", "1"},
	{"2026-01-02T05:00:00Z", "r4", "2.4.0", "", "east", "f", "0.4", "0"},
	{"2026-01-03T00:00:00Z", "r5", "2.3.0", "55.5", "north", "f", "0.6", "1"},
	{"2025-12-31T23:59:59Z", "r0", "2.2.0", "99", "west", "m", "0.1", "0"},
}

var outcomes = [][]string{{"r1", "1"}, {"r2", "1"}, {"r3", "0"}, {"r5", "1"}}

func source(kind string) spec.MonitoringSource {
	s := spec.MonitoringSource{Kind: kind, Timestamp: "ts", ID: "id", Version: "version",
		Features: []string{"income", "region"}, Prediction: "prediction", Score: "score"}
	if kind == "postgres" {
		s.ConnEnv, s.Table = "LOGS_DB", "public.logs"
		s.Outcomes = &spec.Outcomes{Table: "outcomes", ID: "id", Label: "label"}
	} else {
		s.Path = "logs/date=*/part-*.csv"
		s.Outcomes = &spec.Outcomes{Path: "outcomes/*.csv", ID: "id", Label: "label"}
	}
	return s
}

func query(src spec.MonitoringSource) Query {
	return Query{Source: src, Window: Window{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)},
		Numeric: map[string][]float64{"income": {15, 25}}, Categorical: []string{"region"}, Groups: []string{"sex"}}
}

func want() *Counts {
	return &Counts{
		Rows:       4,
		Bins:       map[string][]int64{"income": {1, 1, 1}},
		Categories: map[string]map[string]int64{"region": {"north": 2, "south": 1, "east": 1}},
		Nulls:      map[string]int64{"income": 1},
		Versions:   map[string]int64{"2.3.0": 3, "2.4.0": 1},
		Outcomes: map[Cell]int64{
			{Pred: "1", Label: "1"}: 1, {Pred: "0", Label: "1"}: 1, {Pred: "1", Label: "0"}: 1,
			{Attr: "sex", Group: "f", Pred: "1", Label: "1"}: 1,
			{Attr: "sex", Group: "m", Pred: "0", Label: "1"}: 1,
			{Attr: "sex", Group: "m", Pred: "1", Label: "0"}: 1,
		},
	}
}

func startLogs(t *testing.T) (*pgtest.Server, string) {
	pg := pgtest.Start(t)
	conn := pg.ConnString("postgres")
	var b strings.Builder
	b.WriteString(`CREATE TABLE logs (ts timestamptz, id text, version text, income double precision, region text, sex text, score real, prediction int);
CREATE TABLE outcomes (id text, label int);`)
	for _, r := range logs {
		inc := "NULL"
		if r[3] != "" {
			inc = r[3]
		}
		fmt.Fprintf(&b, "INSERT INTO logs VALUES ('%s','%s','%s',%s,'%s','%s',%s,%s);", r[0], r[1], r[2], inc, r[4], r[5], r[6], r[7])
	}
	for _, r := range outcomes {
		fmt.Fprintf(&b, "INSERT INTO outcomes VALUES ('%s',%s);", r[0], r[1])
	}
	pg.Query(t, "postgres", b.String())
	return pg, conn
}

func writeFiles(t *testing.T) string {
	dir := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parts := map[string]string{}
	for _, r := range logs {
		day := r[0][:10]
		if parts[day] == "" {
			parts[day] = "ts,id,version,income,region,sex,score,prediction\n"
		}
		parts[day] += strings.Join(r, ",") + "\n"
	}
	for day, data := range parts {
		write("logs/date="+day+"/part-0.csv", data)
	}
	o := "id,label\n"
	for _, r := range outcomes {
		o += strings.Join(r, ",") + "\n"
	}
	write("outcomes/part-0.csv", o)
	return dir
}

// TestAggregateSourcesAgree checks the SQL aggregation and the streamed
// files count the same rows the same way.
func TestAggregateSourcesAgree(t *testing.T) {
	ctx := context.Background()
	_, conn := startLogs(t)
	q := query(source("postgres"))
	q.ConnString = conn
	got, err := Aggregate(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	opt := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Identity" }, cmp.Ignore())
	if d := cmp.Diff(want(), got, opt); d != "" {
		t.Errorf("postgres (-want +got):\n%s", d)
	}
	if got.Identity.Table != "public.logs" || got.Identity.OutcomesTable != "outcomes" {
		t.Errorf("identity %+v", got.Identity)
	}
	fq := query(source("files"))
	fq.Root = writeFiles(t)
	fgot, err := Aggregate(ctx, fq)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want(), fgot, opt); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	if len(fgot.Identity.Files) != 5 || !strings.HasPrefix(fgot.Identity.Files[0].SHA256, "sha256:") {
		t.Errorf("file identity %+v", fgot.Identity)
	}
	// Cuts split the version counts by time, in both sources alike; a
	// request at a cut falls after it.
	cut := []time.Time{time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC)}
	wantEpochs := []map[string]int64{{"2.3.0": 1}, {"2.3.0": 2}, {"2.4.0": 1}}
	for _, cq := range []Query{q, fq} {
		cq.Cuts = cut
		got, err := Aggregate(ctx, cq)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wantEpochs, got.Epochs); d != "" || got.Versions["2.3.0"] != 3 {
			t.Errorf("%s epochs (-want +got):\n%s", cq.Source.Kind, d)
		}
	}
	// A score threshold stands in for the prediction column.
	thr := 0.5
	q.Source.Prediction, q.Threshold = "", &thr
	scored, err := Aggregate(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !scored.ScoredPrediction || scored.Outcomes[Cell{Pred: "true", Label: "1"}] != 1 || scored.Outcomes[Cell{Pred: "false", Label: "1"}] != 1 {
		t.Errorf("scored outcomes %v", scored.Outcomes)
	}
}

func TestAggregateBadInput(t *testing.T) {
	ctx := context.Background()
	_, conn := startLogs(t)
	root := writeFiles(t)
	// A partition whose extension says Parquet but which holds CSV.
	if err := os.WriteFile(filepath.Join(root, "logs", "date=2026-01-01", "part-1.parquet"), []byte("ts,id\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A JSONL partition that holds CSV, and a partition whose timestamp
	// column holds something else.
	if err := os.MkdirAll(filepath.Join(root, "jsonl"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "jsonl", "part-0.jsonl"), []byte("ts,id,version\n2026-01-01,r1,2.3.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "badts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "badts", "part-0.csv"), []byte("ts,id,version,income,region,sex,score,prediction\nyesterday,r1,2.3.0,1,north,f,0.5,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Query)
		is   error
		want string
	}{
		{"missing column", func(q *Query) { q.Source.Version = "model_version" }, ErrInput, `table "public.logs": column "model_version" does not exist (its columns: `},
		{"wrong type", func(q *Query) { q.Numeric["region"] = []float64{1} }, ErrInput, `column "region" has type text, want a number`},
		{"timestamp not a time", func(q *Query) { q.Source.Timestamp = "id" }, ErrInput, `column "id" has type text, want a timestamp`},
		{"missing table", func(q *Query) { q.Source.Table = "nope" }, ErrInput, `table "nope" does not exist`},
		{"missing outcomes column", func(q *Query) { q.Source.Outcomes.Label = "y" }, ErrInput, `table "outcomes": column "y" does not exist`},
		{"unreachable", func(q *Query) { q.ConnString = "postgres://u:s3cret-pw@127.0.0.1:1/db?connect_timeout=2" }, ErrUnreachable, "prediction log database unreachable (LOGS_DB): "},
		{"empty variable", func(q *Query) { q.ConnString = "" }, ErrUnreachable, "environment variable LOGS_DB is empty"},
		{"unparsable", func(q *Query) { q.ConnString = "postgres://u:s3cret-pw@[::1" }, ErrUnreachable, "the connection string in LOGS_DB does not parse"},
		{"files: not parquet", func(q *Query) { q.Source = source("files"); q.Source.Path = "logs/date=*/part-*" }, ErrInput, "logs/date=2026-01-01/part-1.parquet"},
		{"files: not jsonl", func(q *Query) { q.Source = source("files"); q.Source.Path = "jsonl/*.jsonl" }, ErrInput, "jsonl/part-0.jsonl"},
		{"files: timestamp not a time", func(q *Query) { q.Source = source("files"); q.Source.Path = "badts/*.csv" }, ErrInput, `badts/part-0.csv: row 1 (line 2), column "ts": "yesterday" is not a timestamp`},
		{"files: none match", func(q *Query) { q.Source = source("files"); q.Source.Path = "logs/nothing/*.csv" }, ErrInput, `no files match "logs/nothing/*.csv"`},
		{"files: missing column", func(q *Query) { q.Source = source("files"); q.Source.Version = "model_version" }, ErrInput, "model_version"},
		{"files: text in a numeric feature", func(q *Query) { q.Source = source("files"); q.Numeric["region"] = []float64{1} }, ErrInput, `logs/date=2026-01-01/part-0.csv: row 1 (line 2), column "region": not a number: "north"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := query(source("postgres"))
			q.ConnString, q.Root = conn, root
			tt.edit(&q)
			_, err := Aggregate(ctx, q)
			if err == nil || !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %v containing %q", err, tt.is, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestEmptyWindow(t *testing.T) {
	_, conn := startLogs(t)
	q := query(source("postgres"))
	q.ConnString = conn
	q.Window = Window{From: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)}
	got, err := Aggregate(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != 0 || len(got.Bins["income"]) != 3 || len(got.Versions) != 0 {
		t.Errorf("empty window counts %+v", got)
	}
}
