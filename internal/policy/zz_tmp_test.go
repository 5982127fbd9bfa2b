package policy

import (
	"context"
	"testing"
)

func TestTmpReads(t *testing.T) {
	e, err := New(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range e.packs {
		t.Logf("%s kinds=%v reads=%v", p.name, p.kinds, p.reads)
	}
}
