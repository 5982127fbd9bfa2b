package spec

import (
	"context"
	"path/filepath"
	"testing"
)

// TestParseAhead keeps parseAhead's parser configuration the one cue/load
// asks for: otherwise every file is parsed twice, once in vain.
func TestParseAhead(t *testing.T) {
	root, err := filepath.Abs("../../examples/credit-risk")
	if err != nil {
		t.Fatal(err)
	}
	l := newLoader(root, false)
	if _, err := l.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := l.parse.hits.Load(), int64(len(l.files)); got != want {
		t.Errorf("cue/load took %d of %d files from parseAhead", got, want)
	}
}
