// Package spec loads a platform repository of CUE files, validates it against
// Slipway's embedded schemas, checks the references between its parts and
// decodes it into the typed values the rest of Slipway uses. It is the only
// package that imports cuelang.org/go.
package spec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/slipway-ml/slipway/internal/redact"
	"github.com/slipway-ml/slipway/internal/safefile"
	"github.com/slipway-ml/slipway/schemas"
)

// PackageName is the CUE package every platform file belongs to.
const PackageName = "platform"

// schemaDir is where the schemas appear to the CUE loader inside a repository.
var schemaDir = filepath.Join("cue.mod", "pkg", filepath.FromSlash(schemas.ImportPath))

// schemaFile is the file, overlaid at the repository root, through which
// every instance takes the schema. platformFiles leaves out names with a
// leading underscore, so no file of the repository's is taken for it.
const schemaFile = "_slipway_schema.cue"

// platformFields are #Platform's fields, in the order rawPlatform has them.
var platformFields = jsonFields(reflect.TypeFor[rawPlatform]())

// schemaFileSource unifies each of the platform's fields with the schema's.
// It does not embed schema.#Platform: an embedding evaluates the same, but
// leaves open the structs the repository's other files contribute (a
// misspelt field inside a model would pass), while each field taken from
// the definition stays closed. Top-level fields are checked by
// checkTopLevel. The schema and the repository are then evaluated together
// once, as `cue vet` does, rather than the repository first and the two
// unified after.
var schemaFileSource = func() string {
	var b strings.Builder
	b.WriteString("package " + PackageName + "\n\nimport \"" + schemas.ImportPath + "\"\n\n")
	for _, f := range platformFields {
		fmt.Fprintf(&b, "%s: schema.#Platform.%s\n", f, f)
	}
	return b.String()
}()

// jsonFields lists the json names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var names []string
	for _, f := range structFields(t) {
		names = append(names, f.name)
	}
	return names
}

// jsonName is the name a struct field's json tag gives it; false when the
// field is unexported, untagged or left out.
func jsonName(f reflect.StructField) (string, bool) {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name, f.IsExported() && name != "" && name != "-"
}

// defaultModule is overlaid when a repository has no cue.mod/module.cue.
const defaultModule = "module: \"slipway.local/platform@v0\"\nlanguage: version: \"v0.17.0\"\n"

// Load reads, validates and decodes the platform repository at dir. When the
// repository is invalid the error is an Errors listing every problem.
func Load(ctx context.Context, dir string) (*Platform, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("platform repository: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("platform repository %s: not a directory", dir)
	}
	return loadWith(ctx, root, false)
}

// loadWith loads the repository at root (absolute); viaJSON decodes through
// CUE's JSON instead of decode, for the test that keeps the two equal.
func loadWith(ctx context.Context, root string, viaJSON bool) (*Platform, error) {
	return newLoader(root, viaJSON).load(ctx)
}

func newLoader(root string, viaJSON bool) *loader {
	l := &loader{root: root, cctx: cuecontext.New(), paths: map[string]bool{}, viaJSON: viaJSON}
	// The index outlives the loader in the Platform: it must not hold
	// the loader, whose CUE context holds the whole evaluated value.
	l.idx = &posIndex{root: root}
	return l
}

type loader struct {
	root  string
	cctx  *cue.Context
	probs Errors
	// defs are the schema's definitions, compiled on first use by
	// schemaDefs.
	defs  cue.Value
	files []string
	paths map[string]bool
	// idx locates the fields the repository's files write.
	idx *posIndex
	// parse reads and parses the files ahead of cue/load.
	parse *parseAhead
	// viaJSON decodes through CUE's JSON (see loadWith).
	viaJSON bool
}

func (l *loader) load(ctx context.Context) (*Platform, error) {
	// Every file cue/load is to see is read here, through root, into its
	// overlay: a FIFO, a device, a symlink out of the repository or an
	// oversized file is refused with its name instead of hanging or
	// exhausting the process inside cue/load.
	root, err := safefile.OpenRoot(l.root)
	if err != nil {
		return nil, fmt.Errorf("platform repository: %w", err)
	}
	defer root.Close()
	overlay, modFile, err := l.overlay(root)
	if err != nil {
		return nil, err
	}
	files, err := platformFiles(l.root)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, Errors{{Pos: Position{File: "."}, Message: "no CUE files: a platform repository holds .cue files of package " + PackageName}}
	}
	names := make([]string, len(files))
	for i, rel := range files {
		names[i] = filepath.Join(l.root, filepath.FromSlash(rel))
	}
	pa := startParse(root, names, modFile)
	defer pa.wait()
	for name, err := range pa.readErrors() {
		l.addRead(name, err)
	}
	if len(l.probs) > 0 {
		return nil, l.probs.sorted()
	}
	pa.addTo(overlay)
	l.parse = pa
	// cue/load reads imported packages of the repository's own module
	// itself: read them here, under the same rules.
	l.overlayImports(root, overlay, modFile, pa.sources())
	if len(l.probs) > 0 {
		return nil, l.probs.sorted()
	}
	// All files load as one instance, whatever directory they are in: the
	// same as `cue vet` given the file list, and one evaluation instead of
	// one per directory. schemaFile brings the schema into the instance.
	cfg := &load.Config{Dir: l.root, Overlay: overlay, ParseFile: pa.ParseFile}
	inst := load.Instances(append(files, "./"+schemaFile), cfg)[0]
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Files of another package are reported alone: CUE would say only
	// that packages differ.
	if l.checkPackages(pa, names); len(l.probs) > 0 {
		return nil, l.probs.sorted()
	}
	if inst.Err != nil {
		l.addCUE(inst.Err)
		return nil, l.probs.sorted()
	}
	owners := map[string]map[string]ownerSite{}
	for _, f := range inst.Files {
		if l.rel(f.Filename) != schemaFile {
			l.noteFile(f, owners)
		}
	}
	l.checkDuplicates(owners)
	l.checkRefCycles(l.idx.files)
	if len(l.probs) > 0 {
		return nil, l.probs.sorted()
	}
	// Errors inside the instance surface, all of them, from Validate below;
	// Err here would report only the first.
	v := l.cctx.BuildInstance(inst)
	l.checkTopLevel(v)
	// CUE leaves incomplete (missing) fields out of its report when other
	// errors are present, so the concrete pass runs as well: all problems
	// are reported at once.
	if err := v.Validate(cue.Concrete(true), cue.All()); err != nil {
		l.addCUE(err)
		l.missing(v, nil)
	}
	if len(l.probs) > 0 {
		return nil, l.probs.sorted()
	}
	var raw rawPlatform
	if l.viaJSON {
		var js []byte
		if js, err = v.MarshalJSON(); err == nil {
			err = json.Unmarshal(js, &raw)
		}
	} else {
		err = decodeValue(v, &raw)
	}
	if err != nil {
		l.addCUE(err)
		return nil, l.probs.sorted()
	}
	p := raw.platform(l.root)
	sort.Strings(l.files)
	p.Files = l.files
	p.st = l.idx
	for name, m := range p.Models {
		m.Dir = modelDir(owners["models"][name])
		p.Models[name] = m
	}
	for i := range p.Waivers {
		// A list that is not a literal has no elements in the index: its
		// field will do.
		p.Waivers[i].Pos = l.idx.closest([]string{"waivers", fmt.Sprintf("[%d]", i)})
	}
	l.resolveDeployments(p)
	l.checkReferences(p)
	l.checkPaths(p)
	if len(l.probs) > 0 {
		return nil, l.probs.sorted()
	}
	return p, nil
}

type rawPlatform struct {
	Platform struct {
		Name   string         `json:"name"`
		Policy PolicyDefaults `json:"policy"`
	} `json:"platform"`
	Environments map[string]Environment `json:"environments"`
	DataSources  map[string]DataSource  `json:"dataSources"`
	Templates    map[string]Template    `json:"templates"`
	Models       map[string]Model       `json:"models"`
	Waivers      []Waiver               `json:"waivers"`
	Signing      struct {
		TrustedKeys []TrustedKey `json:"trustedKeys"`
	} `json:"signing"`
}

func (r rawPlatform) platform(root string) *Platform {
	return &Platform{
		Root:         root,
		Name:         r.Platform.Name,
		Policy:       r.Platform.Policy,
		Environments: r.Environments,
		DataSources:  r.DataSources,
		Templates:    r.Templates,
		Models:       r.Models,
		Waivers:      r.Waivers,
		TrustedKeys:  r.Signing.TrustedKeys,
	}
}

// schemaDefs returns the schema's definitions, for friendlier messages and
// for checking deployments with parameters. The instance evaluates its own
// copy; this one is compiled only when one of those needs it.
func (l *loader) schemaDefs() cue.Value {
	if !l.defs.Exists() {
		l.defs = l.cctx.CompileBytes(mustReadSchema(), cue.Filename(filepath.Join(l.root, schemaDir, "platform.cue")))
	}
	return l.defs
}

func mustReadSchema() []byte {
	b, err := fs.ReadFile(schemas.FS, "platform.cue")
	if err != nil {
		panic(err)
	}
	return b
}

// overlay makes the embedded schema importable as slipway.dev/schema, in
// place of any vendored copy, so that an edited copy cannot weaken it, and
// adds schemaFile. It returns the module file too, which it overlays with
// defaultModule when the repository has none. The module file and the
// packages vendored under cue.mod are read through root (see load); a read
// error is a problem, reported by load.
func (l *loader) overlay(root *safefile.Root) (map[string]load.Source, []byte, error) {
	ov := map[string]load.Source{}
	entries, err := fs.ReadDir(schemas.FS, ".")
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(schemas.FS, e.Name())
		if err != nil {
			return nil, nil, err
		}
		ov[filepath.Join(l.root, schemaDir, e.Name())] = load.FromBytes(b)
	}
	ov[filepath.Join(l.root, schemaFile)] = load.FromString(schemaFileSource)
	mod := filepath.Join(l.root, "cue.mod", "module.cue")
	modFile, err := root.ReadFile(mod, safefile.Spec)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		modFile = []byte(defaultModule)
	case err != nil:
		l.addRead(mod, err)
		return nil, nil, l.probs.sorted()
	}
	ov[mod] = load.FromBytes(modFile)
	if err := l.overlayVendored(root, ov); err != nil {
		return nil, nil, err
	}
	return ov, modFile, nil
}

// overlayVendored reads the .cue files under cue.mod, which cue/load would
// otherwise read itself when a file imports them, into the overlay. A
// symlinked directory there is refused: cue/load would follow it.
func (l *loader) overlayVendored(root *safefile.Root, ov map[string]load.Source) error {
	dir := filepath.Join(l.root, "cue.mod")
	skip := filepath.Join(l.root, schemaDir)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist) && path == dir:
			return filepath.SkipDir
		case err != nil:
			return err
		case path == skip:
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(d.Name(), ".cue") && d.Type()&fs.ModeSymlink == 0:
			return nil
		case path == filepath.Join(dir, "module.cue"):
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				l.add(Position{File: l.rel(path)}, "", "symlinked directory under cue.mod: vendor the package's files instead")
				return nil
			}
			if !strings.HasSuffix(d.Name(), ".cue") {
				return nil
			}
		}
		b, err := root.ReadFile(path, safefile.Spec)
		if err != nil {
			l.addRead(path, err)
			return nil
		}
		ov[path] = load.FromBytes(b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list cue.mod: %w", err)
	}
	if len(l.probs) > 0 {
		return l.probs.sorted()
	}
	return nil
}

// addRead reports a file that could not be read: not a regular file, a
// symlink out of the repository, over the size limit.
func (l *loader) addRead(name string, err error) {
	msg := err.Error()
	var pe *fs.PathError
	var le *safefile.LimitError
	var ue *utf8Error
	switch {
	case errors.As(err, &ue):
		l.add(Position{File: l.rel(name), Line: ue.line, Column: ue.col}, "", ue.Error())
		return
	case errors.As(err, &le):
		msg = strings.TrimPrefix(le.Error(), le.Name+": ")
	case errors.As(err, &pe):
		msg = pe.Err.Error()
	}
	l.add(Position{File: l.rel(name)}, "", msg)
}

// checkTopLevel reports top-level fields the schema does not have, which
// nothing in the instance closes (see schemaFileSource). Definitions and
// hidden fields are the repository's own business.
func (l *loader) checkTopLevel(v cue.Value) {
	it, err := v.Fields()
	if err != nil {
		return // Validate reports it
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		if !slices.Contains(platformFields, name) {
			path := cuePath([]string{name})
			l.add(l.idx.closest([]string{name}), path, "unknown field (not in the schema; check the spelling)")
		}
	}
}

// rel makes an absolute file name relative to the repository root.
func (l *loader) rel(name string) string { return relTo(l.root, name) }

func relTo(root, name string) string {
	if r, err := filepath.Rel(root, name); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return name
}

func (l *loader) pos(p token.Pos) Position {
	if !p.IsValid() {
		return Position{}
	}
	return Position{File: l.rel(p.Filename()), Line: p.Line(), Column: p.Column()}
}

func (l *loader) add(pos Position, path, msg string) {
	// Messages quote spec values; a 50 MB string is named, not repeated.
	l.probs = append(l.probs, Problem{Pos: pos, Path: path, Message: redact.Message(msg)})
}

// isUserFile reports whether a position is in the repository's own files
// rather than in the schema.
func (l *loader) isUserFile(p token.Pos) bool {
	if !p.IsValid() {
		return false
	}
	r := l.rel(p.Filename())
	return !strings.HasPrefix(r, "cue.mod/") && !filepath.IsAbs(r) && r != schemaFile
}

// addCUE turns a CUE error into problems, one for each error it holds.
func (l *loader) addCUE(err error) {
	for _, e := range cueerrors.Errors(err) {
		sels := errorPath(e)
		path := cuePath(sels)
		pos := l.userPos(e, sels)
		l.add(pos, path, l.message(e, path))
	}
}

// userPos picks the position in the repository's own files that best names
// the field at fault. A field the schema requires but no file sets has no
// such position, so the closest enclosing value that is set is named.
func (l *loader) userPos(e cueerrors.Error, sels []string) Position {
	if p := e.Position(); l.isUserFile(p) {
		return l.pos(p)
	}
	for _, p := range e.InputPositions() {
		if l.isUserFile(p) {
			return l.pos(p)
		}
	}
	if pos := l.idx.closest(sels); pos.IsValid() {
		return pos
	}
	if p := e.Position(); p.IsValid() {
		return l.pos(p)
	}
	return Position{File: "."}
}

// errorPath returns the path of a CUE error as cuePath takes it: CUE
// quotes the labels that are not identifiers, such as a model's name.
func errorPath(e cueerrors.Error) []string {
	sels := slices.Clone(e.Path()) // the error's own, which may be shared
	for i, s := range sels {
		if strings.HasPrefix(s, `"`) {
			if label, err := strconv.Unquote(s); err == nil {
				sels[i] = label
			}
		}
	}
	return sels
}

// cuePath renders selectors (labels, and list indexes as "[N]" or N) as a
// CUE path, quoting labels that need it.
func cuePath(sels []string) string {
	var b strings.Builder
	for i, s := range sels {
		appendSel(&b, i == 0, s)
	}
	return b.String()
}

// childPath is cuePath of the selectors of the path parent and s.
func childPath(parent, s string) string {
	var b strings.Builder
	b.Grow(len(parent) + len(s) + 3)
	b.WriteString(parent)
	appendSel(&b, parent == "", s)
	return b.String()
}

// appendSel writes one selector of a CUE path; first when it starts the
// path.
func appendSel(b *strings.Builder, first bool, s string) {
	switch {
	case strings.HasPrefix(s, "["):
		b.WriteString(s)
	case isIndex(s):
		// CUE error paths name list elements by their index alone.
		b.WriteString("[" + s + "]")
	default:
		if !first {
			b.WriteByte('.')
		}
		if ast.IsValidIdent(s) {
			b.WriteString(s)
		} else {
			b.WriteString(strconv.Quote(s))
		}
	}
}

// platformFiles lists the repository's CUE files, relative to root, leaving
// out cue.mod and hidden or underscore directories such as .git and the
// .slipway work dir.
func platformFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "cue.mod" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".cue") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, "./"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list platform files: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// ownerSite is where a top-level entry, such as one model, is declared.
type ownerSite struct {
	dirs map[string]Position
}

// identityField is the field whose presence makes an entry a declaration
// of the thing rather than a contribution to it, such as a generated file
// that only sets a model's artifact digest.
var identityField = map[string]string{
	"models":       "version",
	"dataSources":  "kind",
	"environments": "target",
	"templates":    "kind",
}

// declares reports whether a struct literal sets the named field.
func declares(x ast.Expr, field string) bool {
	for _, f := range entries(x) {
		if name, _, err := ast.LabelName(f.Label); err == nil && name == field {
			return true
		}
	}
	return false
}

// noteFile records, for each entry of the top-level maps a file declares,
// the file's directory. Entries are keyed by name, so CUE would silently
// merge two identical declarations of one model in two places; Slipway
// treats a model declared in two directories as a copy-paste mistake.
func (l *loader) noteFile(f *ast.File, owners map[string]map[string]ownerSite) {
	name := l.rel(f.Filename)
	if l.paths[name] {
		return
	}
	l.paths[name] = true
	l.files = append(l.files, name)
	l.idx.files = append(l.idx.files, f)
	disarmEmbed(f)
	dir := filepath.ToSlash(filepath.Dir(name))
	for _, decl := range f.Decls {
		field, ok := decl.(*ast.Field)
		if !ok {
			continue
		}
		top, _, _ := ast.LabelName(field.Label)
		switch top {
		case "models", "dataSources", "environments", "templates":
		default:
			continue
		}
		for _, entry := range entries(field.Value) {
			key, _, err := ast.LabelName(entry.Label)
			if err != nil || !declares(entry.Value, identityField[top]) {
				continue
			}
			if owners[top] == nil {
				owners[top] = map[string]ownerSite{}
			}
			site := owners[top][key]
			if site.dirs == nil {
				site.dirs = map[string]Position{}
			}
			if _, seen := site.dirs[dir]; !seen {
				site.dirs[dir] = l.pos(entry.Label.Pos())
			}
			owners[top][key] = site
		}
	}
}

// posIndex maps the CUE path of every field the repository's files write
// to where it is first written. Files are read in a fixed order, so the
// first writer of a path wins consistently. It is built from the syntax
// trees on first use: a valid platform needs it only for diagnostics later
// on. Building it visits every field of every file, so it keeps token
// positions and builds each key from its parent's: a position becomes a
// file, line and column only when asked for.
type posIndex struct {
	once  sync.Once
	files []*ast.File
	root  string
	m     map[string]token.Pos
	// byPath remembers Pos's answers: a check asks the same few paths of
	// every model once per rule and environment, and parsing a CUE path
	// costs more than the lookup.
	byPath sync.Map // string → Position
	// lits are the string literals written as field values, by path, so
	// a fault inside a string (an alert condition) can be placed on its
	// column.
	lits map[string]*ast.BasicLit
}

func (ix *posIndex) build() {
	ix.once.Do(func() {
		ix.m = map[string]token.Pos{}
		ix.lits = map[string]*ast.BasicLit{}
		for _, f := range ix.files {
			ix.indexFields(f.Decls, "")
		}
	})
}

// has reports whether the field at the CUE path key is written.
func (ix *posIndex) has(key string) bool {
	ix.build()
	_, ok := ix.m[key]
	return ok
}

// closest returns the position of the field at sels or, failing that, of
// its closest enclosing field.
func (ix *posIndex) closest(sels []string) Position {
	ix.build()
	for i := len(sels); i > 0; i-- {
		if p, ok := ix.m[cuePath(sels[:i])]; ok {
			return ix.pos(p)
		}
	}
	return Position{}
}

func (ix *posIndex) pos(p token.Pos) Position {
	if !p.IsValid() {
		return Position{}
	}
	return Position{File: relTo(ix.root, p.Filename()), Line: p.Line(), Column: p.Column()}
}

func (ix *posIndex) add(key string, p token.Pos) {
	if _, ok := ix.m[key]; !ok {
		ix.m[key] = p
	}
}

// indexFields indexes decls, written in the struct at the CUE path prefix.
func (ix *posIndex) indexFields(decls []ast.Decl, prefix string) {
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Field:
			name, _, err := ast.LabelName(d.Label)
			if err != nil {
				continue
			}
			key := childPath(prefix, name)
			ix.add(key, d.Label.Pos())
			if lit, ok := d.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if _, seen := ix.lits[key]; !seen {
					ix.lits[key] = lit
				}
			}
			ix.indexValue(d.Value, key)
		case *ast.EmbedDecl:
			ix.indexValue(d.Expr, prefix)
		}
	}
}

func (ix *posIndex) indexValue(x ast.Expr, key string) {
	switch x := x.(type) {
	case *ast.StructLit:
		ix.indexFields(x.Elts, key)
	case *ast.ListLit:
		for i, e := range x.Elts {
			elem := childPath(key, "["+strconv.Itoa(i)+"]")
			ix.add(elem, e.Pos())
			ix.indexValue(e, elem)
		}
	case *ast.BinaryExpr:
		// a & b: both sides write into the same path.
		ix.indexValue(x.X, key)
		ix.indexValue(x.Y, key)
	}
}

// entries lists the fields of a struct literal, including the single field
// of the shorthand `models: name: {...}`.
func entries(x ast.Expr) []*ast.Field {
	s, ok := x.(*ast.StructLit)
	if !ok {
		return nil
	}
	var out []*ast.Field
	for _, d := range s.Elts {
		if f, ok := d.(*ast.Field); ok {
			out = append(out, f)
		}
	}
	return out
}

var kindNames = map[string]string{
	"models":       "model",
	"dataSources":  "data source",
	"environments": "environment",
	"templates":    "template",
}

func (l *loader) checkDuplicates(owners map[string]map[string]ownerSite) {
	for top, byName := range owners {
		for name, site := range byName {
			if len(site.dirs) < 2 {
				continue
			}
			var sites []Position
			for _, p := range site.dirs {
				sites = append(sites, p)
			}
			sort.Slice(sites, func(i, j int) bool { return sites[i].String() < sites[j].String() })
			for _, p := range sites[1:] {
				l.add(p, cuePath([]string{top, name}), fmt.Sprintf("duplicate %s %q: already declared at %s", kindNames[top], name, sites[0]))
			}
		}
	}
}

// modelDir is the directory a model is declared in; when several files in
// one directory declare it, that directory.
func modelDir(site ownerSite) string {
	var dirs []string
	for d := range site.dirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	if len(dirs) == 0 {
		return ""
	}
	return dirs[0]
}

// Pos returns where the field at path (a CUE path such as
// `models."churn".handover.runbook`) is set. When the field is not set in
// the repository, it returns the position of the closest enclosing value
// that is, so a diagnostic can always point somewhere useful.
func (p *Platform) Pos(path string) Position {
	if p.st == nil {
		return Position{}
	}
	if pos, ok := p.st.byPath.Load(path); ok {
		return pos.(Position)
	}
	pos := p.pos(path)
	p.st.byPath.Store(path, pos)
	return pos
}

func (p *Platform) pos(path string) Position {
	sels, ok := selectors(path)
	if !ok {
		return Position{}
	}
	return p.st.closest(sels)
}

// selectors splits a CUE path into the index's keys.
func selectors(path string) ([]string, bool) {
	if sels, ok := plainSelectors(path); ok {
		return sels, true
	}
	return parsedSelectors(path)
}

// parsedSelectors is selectors by CUE's parser, for any path.
func parsedSelectors(path string) ([]string, bool) {
	cp := cue.ParsePath(path)
	if cp.Err() != nil {
		return nil, false
	}
	var sels []string
	for _, s := range cp.Selectors() {
		if s.Type() == cue.IndexLabel {
			sels = append(sels, "["+s.String()+"]")
		} else {
			sels = append(sels, s.Unquoted())
		}
	}
	return sels, true
}

// StringPos returns where byte offset of the string value at path is
// written: on the string's own line and column when the value is a one-line
// string literal, else where the field is set (Pos).
func (p *Platform) StringPos(path string, offset int) Position {
	pos := p.Pos(path)
	if p.st == nil {
		return pos
	}
	p.st.build()
	sels, ok := selectors(path)
	if !ok {
		return pos
	}
	lit, ok := p.st.lits[cuePath(sels)]
	raw := ""
	if ok {
		raw = lit.Value
	}
	if !ok || !strings.HasPrefix(raw, `"`) || strings.HasPrefix(raw, `"""`) || strings.Contains(raw, `\n`) {
		return pos
	}
	// Walk the literal after its quote: an escape is two bytes written
	// for one read (\uXXXX six).
	col, i := 1, 1
	for n := 0; n < offset && i < len(raw)-1; n++ {
		w := 1
		if raw[i] == '\\' && i+1 < len(raw) {
			w = 2
			if raw[i+1] == 'u' {
				w = 6
			}
		}
		i += w
		col += w
	}
	at := p.st.pos(lit.Pos())
	at.Column += col
	return at
}

// ModelPath returns the CUE path of a field of a model, for Pos.
func ModelPath(model string, field ...string) string {
	return cuePath(append([]string{"models", model}, field...))
}

// resolveDeployments applies each model's parameters to its template and
// validates the results against the template schema again, so that a
// parameter cannot produce a deployment no template could describe. All
// models are checked in one evaluation.
func (l *loader) resolveDeployments(p *Platform) {
	merged := map[string]any{}
	for name, m := range p.Models {
		t, ok := p.Templates[m.Deployment.Template]
		if !ok {
			continue // reported by checkReferences
		}
		if len(m.Deployment.Parameters) == 0 {
			// The template itself was validated with the platform.
			m.Deployment.Resolved = t
			p.Models[name] = m
			continue
		}
		var base map[string]any
		b, _ := json.Marshal(t)
		_ = json.Unmarshal(b, &base)
		merged[name] = integral(deepMerge(base, m.Deployment.Parameters))
	}
	if len(merged) == 0 {
		return
	}
	tmplDef := l.schemaDefs().LookupPath(cue.ParsePath("#Template"))
	v := l.cctx.CompileString("{}").FillPath(cue.MakePath(cue.AnyString), tmplDef).Unify(l.cctx.Encode(merged))
	if err := v.Validate(cue.Concrete(true), cue.All()); err != nil {
		for _, e := range cueerrors.Errors(err) {
			sels := errorPath(e)
			if len(sels) == 0 {
				continue
			}
			name := sels[0]
			path := ModelPath(name, "deployment", "parameters")
			tmpl := p.Models[name].Deployment.Template
			l.add(p.Pos(path), path, fmt.Sprintf("applied to template %q: %s: %s", tmpl, cuePath(sels[1:]), l.message(e, "")))
		}
		return
	}
	var resolved map[string]Template
	js, err := v.MarshalJSON()
	if err == nil {
		err = json.Unmarshal(js, &resolved)
	}
	if err != nil {
		l.add(Position{File: "."}, "", "resolve deployments: "+err.Error())
		return
	}
	for name, t := range resolved {
		m := p.Models[name]
		m.Deployment.Resolved = t
		p.Models[name] = m
	}
}

// deepMerge returns base with over laid on top; nested objects merge,
// anything else in over replaces what base has.
func deepMerge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if bo, ok := out[k].(map[string]any); ok {
			if oo, ok := v.(map[string]any); ok {
				out[k] = deepMerge(bo, oo)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// checkPackages reports every file that is not of package platform.
func (l *loader) checkPackages(pa *parseAhead, names []string) {
	for _, name := range names {
		p := pa.get(name)
		f, err := p.file, p.err
		if p.src == nil {
			continue // the loader reports what it could not read
		}
		if err != nil {
			// A syntax error after the package clause still leaves the
			// clause to check; the loader reports the error itself.
			if f, err = parser.ParseFile(name, p.src, parser.PackageClauseOnly); err != nil {
				continue
			}
		}
		if pkg := f.PackageName(); pkg != PackageName {
			pos := l.pos(f.Pos())
			for _, d := range f.Decls {
				if p, ok := d.(*ast.Package); ok {
					pos = l.pos(p.Name.Pos())
				}
			}
			if pkg == "" {
				l.add(pos, "", "no package clause: platform files start with `package "+PackageName+"`")
			} else {
				l.add(pos, "", fmt.Sprintf("package %s: platform files must be package %s", pkg, PackageName))
			}
		}
	}
}

// integral turns whole float64 numbers back into int64: a JSON round trip
// makes every number a float, and CUE would then reject it where the schema
// wants an int.
func integral(v map[string]any) map[string]any {
	var fix func(any) any
	fix = func(x any) any {
		switch x := x.(type) {
		case float64:
			if x == float64(int64(x)) {
				return int64(x)
			}
		case map[string]any:
			for k, e := range x {
				x[k] = fix(e)
			}
		case []any:
			for i, e := range x {
				x[i] = fix(e)
			}
		}
		return x
	}
	return fix(v).(map[string]any)
}

// missing reports required fields that nothing sets. CUE's own concrete
// check stays silent about them while other errors exist.
func (l *loader) missing(v cue.Value, sels []string) {
	if d, ok := v.Default(); ok {
		v = d
	}
	kind := v.IncompleteKind()
	if kind == cue.BottomKind {
		// A struct holding an error reports itself as bottom; its fields
		// are still there to walk.
		if _, err := v.Fields(); err == nil {
			kind = cue.StructKind
		}
	}
	if len(sels) > 0 && (kind == cue.StructKind || kind == cue.ListKind) {
		// A whole block nobody wrote is one problem, not one per field.
		if !l.idx.has(cuePath(sels)) && v.Validate(cue.Concrete(true)) != nil {
			l.missingBlock(sels)
			return
		}
	}
	switch kind {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return
		}
		for it.Next() {
			// A list in error can present itself as a struct, so its
			// elements arrive here with index selectors.
			var label string
			switch sel := it.Selector(); sel.Type() {
			case cue.StringLabel:
				label = sel.Unquoted()
			case cue.IndexLabel:
				label = "[" + sel.String() + "]"
			default:
				continue
			}
			l.missing(it.Value(), append(append([]string(nil), sels...), label))
		}
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return
		}
		for i := 0; it.Next(); i++ {
			l.missing(it.Value(), append(append([]string(nil), sels...), fmt.Sprintf("[%d]", i)))
		}
	default:
		// A value in error was reported already.
		if v.Err() != nil || v.IsConcrete() || len(sels) == 0 {
			return
		}
		path := cuePath(sels)
		msg := "missing required field"
		if want := l.allowed(path); want != "" {
			msg += ": want " + want
		}
		l.add(l.idx.closest(sels), path, msg)
	}
}

// missingBlock reports a struct or list nobody wrote, in place of what CUE
// reports missing inside it: one problem, not one per field.
func (l *loader) missingBlock(sels []string) {
	path := cuePath(sels)
	l.probs = slices.DeleteFunc(l.probs, func(p Problem) bool {
		inside := strings.HasPrefix(p.Path, path+".") || strings.HasPrefix(p.Path, path+"[")
		return inside && strings.HasPrefix(p.Message, "missing required field")
	})
	pos := l.idx.closest(sels)
	if !pos.IsValid() {
		pos = Position{File: "."} // a top-level block: the repository lacks it
	}
	l.add(pos, path, "missing required field")
}

// disarmEmbed turns a file's embedding of schema.#Platform, which `slipway
// init` writes for editors and cue vet, into an unused hidden field.
// schemaFile brings the schema into every instance; the user's embedding
// would only add the same constraints again, and it does not close the
// structs other files contribute anyway.
func disarmEmbed(f *ast.File) {
	for i, d := range f.Decls {
		if e, ok := d.(*ast.EmbedDecl); ok && isPlatformRef(f, e.Expr) {
			f.Decls[i] = &ast.Field{Label: ast.NewIdent("_slipwaySchema"), Value: e.Expr}
		}
	}
}

// isPlatformRef reports whether x is #Platform selected from an import of
// the schema package.
func isPlatformRef(f *ast.File, x ast.Expr) bool {
	alias := ""
	for spec := range f.ImportSpecs() {
		path := strings.Trim(spec.Path.Value, `"`)
		if path != schemas.ImportPath {
			continue
		}
		alias = "schema"
		if spec.Name != nil {
			alias = spec.Name.Name
		}
	}
	if alias == "" {
		return false
	}
	sel, ok := x.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	name, _, _ := ast.LabelName(sel.Sel)
	return ok && id.Name == alias && name == "#Platform"
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
