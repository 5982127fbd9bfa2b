package spec

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/mod/modfile"

	"github.com/slipway-ml/slipway/internal/safefile"
)

// overlayImports reads, through root, the .cue files of the packages that
// the files in the overlay import from the repository's own module, and
// of the directories between those packages and the root, which cue/load
// would otherwise read from the disk itself, unchecked: a package in a
// directory the platform files leave out (_lib/, testdata/). Each is read
// like any spec file (a regular file inside the repository, under the spec
// size limit) and an unreadable one is a problem naming it. Packages
// vendored under cue.mod are read by overlayVendored.
func (l *loader) overlayImports(root *safefile.Root, ov map[string]load.Source, modFile []byte, srcs map[string][]byte) {
	mf, err := modfile.ParseNonStrict(modFile, "module.cue")
	if err != nil || mf.Module == "" {
		return // cue/load reports the module file
	}
	mod, _, _ := strings.Cut(mf.Module, "@")
	var queue []srcFile
	for name, src := range srcs {
		queue = append(queue, srcFile{name, src})
	}
	done := map[string]bool{}
	for len(queue) > 0 {
		f := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		// Most files import nothing: they are not parsed here.
		if !bytes.Contains(f.src, []byte("import")) {
			continue
		}
		syn, err := parser.ParseFile(f.name, f.src, parser.ImportsOnly)
		if err != nil {
			continue // the full parse reports it
		}
		for spec := range syn.ImportSpecs() {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				continue
			}
			ip := ast.ParseImportPath(p).Path
			if ip != mod && !strings.HasPrefix(ip, mod+"/") {
				continue
			}
			for dir := strings.TrimPrefix(strings.TrimPrefix(ip, mod), "/"); dir != "" && dir != "." && !done[dir]; dir = path.Dir(dir) {
				done[dir] = true
				queue = append(queue, l.readPackageDir(root, ov, filepath.Join(l.root, filepath.FromSlash(dir)))...)
			}
		}
	}
}

// srcFile is a file's name and bytes.
type srcFile struct {
	name string
	src  []byte
}

// readPackageDir reads the .cue files of dir that are not in the overlay
// yet into it, as cue/load would see them, and returns them.
func (l *loader) readPackageDir(root *safefile.Root, ov map[string]load.Source, dir string) []srcFile {
	// Stat, not open: a FIFO in a directory's place must not block.
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []srcFile
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".cue") || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		name := filepath.Join(dir, n)
		if _, ok := ov[name]; ok {
			continue
		}
		b, err := root.ReadFile(name, safefile.Spec)
		if err != nil {
			l.addRead(name, err)
			continue
		}
		ov[name] = load.FromBytes(b)
		out = append(out, srcFile{name, b})
	}
	return out
}
