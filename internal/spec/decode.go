package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"cuelang.org/go/cue"

	"github.com/slipway-ml/slipway/internal/parallel"
)

// decodeValue decodes v into x. The collector's target is the CLI's
// choice (cli.Main), not the loader's: a library leaves it alone.
func decodeValue(v cue.Value, x any) error {
	return decode(v, reflect.ValueOf(x))
}

// decode fills the Go value rv points at from v, following the json tags of
// the spec types. It looks struct fields up by name rather than iterating
// them: CUE's field iteration (and so MarshalJSON and Decode) sorts every
// struct's fields into source order first, which is most of the cost of
// decoding a large platform and of no use for filling Go structs. Only
// maps iterate. Values typed any go through JSON.
func decode(v cue.Value, rv reflect.Value) error {
	if d, ok := v.Default(); ok {
		v = d
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return decode(v, rv.Elem())
	case reflect.Struct:
		for _, f := range structFields(rv.Type()) {
			fv := v.LookupPath(f.path)
			if !fv.Exists() {
				continue
			}
			if err := decode(fv, rv.Field(f.index)); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
		return nil
	case reflect.Map:
		it, err := v.Fields()
		if err != nil {
			return err
		}
		var keys []string
		var vals []cue.Value
		for it.Next() {
			keys = append(keys, it.Selector().Unquoted())
			vals = append(vals, it.Value())
		}
		elems := make([]reflect.Value, len(vals))
		errs := make([]error, len(vals))
		parallel.ForLimit(len(vals), spread(len(vals)), func(i int) {
			elems[i] = reflect.New(rv.Type().Elem()).Elem()
			errs[i] = decode(vals[i], elems[i])
		})
		m := reflect.MakeMapWithSize(rv.Type(), len(vals))
		for i, k := range keys {
			if errs[i] != nil {
				return fmt.Errorf("%s: %w", k, errs[i])
			}
			m.SetMapIndex(reflect.ValueOf(k), elems[i])
		}
		rv.Set(m)
		return nil
	case reflect.Slice:
		it, err := v.List()
		if err != nil {
			return err
		}
		s := reflect.MakeSlice(rv.Type(), 0, 0)
		for it.Next() {
			ev := reflect.New(rv.Type().Elem()).Elem()
			if err := decode(it.Value(), ev); err != nil {
				return err
			}
			s = reflect.Append(s, ev)
		}
		rv.Set(s)
		return nil
	case reflect.String:
		s, err := v.String()
		rv.SetString(s)
		return err
	case reflect.Bool:
		b, err := v.Bool()
		rv.SetBool(b)
		return err
	case reflect.Int, reflect.Int64:
		n, err := v.Int64()
		rv.SetInt(n)
		return err
	case reflect.Float64:
		f, err := v.Float64()
		rv.SetFloat(f)
		return err
	case reflect.Interface:
		b, err := v.MarshalJSON()
		if err != nil {
			return err
		}
		x := reflect.New(rv.Type())
		if err := json.Unmarshal(b, x.Interface()); err != nil {
			return err
		}
		rv.Set(x.Elem())
		return nil
	}
	return fmt.Errorf("cannot decode into %s", rv.Type())
}

// decodeField is a Go struct field that decode fills, with the CUE path
// it looks up, made once per type rather than once per value.
type decodeField struct {
	index int
	name  string
	path  cue.Path
}

// fieldCache holds structFields' answer for each type (reflect.Type to
// []decodeField).
var fieldCache sync.Map

// structFields lists the fields of struct type t that have a json name.
// A cue.Path is only read by LookupPath, so one serves every goroutine.
func structFields(t reflect.Type) []decodeField {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]decodeField)
	}
	var fs []decodeField
	for i := range t.NumField() {
		if name, ok := jsonName(t.Field(i)); ok {
			fs = append(fs, decodeField{index: i, name: name, path: cue.MakePath(cue.Str(name))})
		}
	}
	fieldCache.Store(t, fs)
	return fs
}
