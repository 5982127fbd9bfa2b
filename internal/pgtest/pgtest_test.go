package pgtest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ml/slipway/internal/pgtest"
)

func TestArgv(t *testing.T) {
	if diff := cmp.Diff([]string{"runuser", "-u", "postgres", "--", "initdb", "-D", "d"}, pgtest.Argv(true, "initdb", "-D", "d")); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"initdb", "-D", "d"}, pgtest.Argv(false, "initdb", "-D", "d")); diff != "" {
		t.Error(diff)
	}
}

func TestStart(t *testing.T) {
	s := pgtest.Start(t)
	if got := s.Query(t, "postgres", "select 40 + 2"); got != "42" {
		t.Errorf("query = %q", got)
	}
}
