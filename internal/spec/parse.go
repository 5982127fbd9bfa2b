package spec

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/mod/modfile"

	"github.com/slipway-ml/slipway/internal/parallel"
	"github.com/slipway-ml/slipway/internal/safefile"
)

// parseAhead reads the repository's files on every processor, then parses
// them in the background while cue/load, which parses one file at a time,
// lists the instance; cue/load reads the files from its overlay and takes
// the trees from its ParseFile. Reading and parsing are a fifth of loading
// a large repository, and the part of it that parallelises.
type parseAhead struct {
	// cfg is the parser configuration cue/load asks for when it parses a
	// file whole. A request with another one (its imports-only pass, or a
	// future cue/load's own choice) is parsed on the spot.
	cfg   parser.Config
	files map[string]*parsed
	// done is closed when every file is parsed.
	done chan struct{}
	// hits counts the requests answered from files, for the test that
	// keeps cfg in step with cue/load.
	hits atomic.Int64
}

// parsed is one file's source and syntax, ready once done is closed; src
// is nil when the file could not be read, and readErr says why.
type parsed struct {
	done    chan struct{}
	src     []byte
	readErr error
	file    *ast.File
	err     error
}

// startParse reads the files (absolute names) through root, which refuses
// what is not a regular file inside the repository or is over the spec
// size limit, and starts parsing them with the language version of the
// repository's module file modFile.
func startParse(root *safefile.Root, names []string, modFile []byte) *parseAhead {
	pa := &parseAhead{
		cfg:   parser.NewConfig(parser.ParseComments).Apply(parser.Version(languageVersion(modFile))),
		files: make(map[string]*parsed, len(names)),
		done:  make(chan struct{}),
	}
	ps := make([]*parsed, len(names))
	for i, name := range names {
		ps[i] = &parsed{done: make(chan struct{})}
		pa.files[name] = ps[i]
	}
	parallel.ForLimit(len(names), spread(len(names)), func(i int) {
		ps[i].src, ps[i].readErr = root.ReadFile(names[i], safefile.Spec)
		if ps[i].readErr == nil && !utf8.Valid(ps[i].src) {
			// CUE would turn the bytes into U+FFFD without a word, or
			// fail with an empty message in an identifier.
			ps[i].readErr = invalidUTF8(ps[i].src)
		}
	})
	go func() {
		defer close(pa.done)
		parallel.ForLimit(len(names), spread(len(names)), func(i int) {
			if p := ps[i]; p.src != nil {
				p.file, p.err = parser.ParseFile(names[i], p.src, pa.cfg)
			}
			close(ps[i].done)
		})
	}()
	return pa
}

// languageVersion is the module file's language version, as cue/load reads
// it; "" when the file does not parse, which cue/load reports itself.
func languageVersion(modFile []byte) string {
	mf, err := modfile.ParseNonStrict(modFile, "module.cue")
	if err != nil || mf.Language == nil {
		return ""
	}
	return mf.Language.Version
}

// addTo puts the files read into a cue/load overlay, so that cue/load does
// not read them again.
func (pa *parseAhead) addTo(ov map[string]load.Source) {
	for name, p := range pa.files {
		if p.src != nil {
			ov[name] = load.FromBytes(p.src)
		}
	}
}

// sources are the files read, by name.
func (pa *parseAhead) sources() map[string][]byte {
	out := make(map[string][]byte, len(pa.files))
	for name, p := range pa.files {
		if p.src != nil {
			out[name] = p.src
		}
	}
	return out
}

// utf8Error is a file that is not valid UTF-8, at a 1-based line and
// column (in bytes).
type utf8Error struct {
	line, col int
	b         byte
}

func (e *utf8Error) Error() string {
	return fmt.Sprintf("invalid UTF-8 (byte 0x%02x): CUE files are UTF-8 text", e.b)
}

// invalidUTF8 locates the first byte of src that is not valid UTF-8.
func invalidUTF8(src []byte) *utf8Error {
	line, col := 1, 1
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return &utf8Error{line: line, col: col, b: src[i]}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col += n
		}
		i += n
	}
	return nil
}

// readErrors returns, by file name, the files that could not be read.
func (pa *parseAhead) readErrors() map[string]error {
	errs := map[string]error{}
	for name, p := range pa.files {
		if p.readErr != nil {
			errs[name] = p.readErr
		}
	}
	return errs
}

// get waits for the named file and returns it, or nil when it is not one
// of the files being parsed.
func (pa *parseAhead) get(name string) *parsed {
	p, ok := pa.files[name]
	if !ok {
		return nil
	}
	<-p.done
	return p
}

// ParseFile is cue/load's parse hook.
func (pa *parseAhead) ParseFile(name string, src any, cfg parser.Config) (*ast.File, error) {
	if b, ok := src.([]byte); ok && cfg == pa.cfg {
		if p := pa.get(filepath.Clean(name)); p != nil && p.src != nil && bytes.Equal(p.src, b) {
			pa.hits.Add(1)
			return p.file, p.err
		}
	}
	return parser.ParseFile(name, src, cfg)
}

// wait returns when every file is parsed, so that no work outlives the
// load.
func (pa *parseAhead) wait() { <-pa.done }
