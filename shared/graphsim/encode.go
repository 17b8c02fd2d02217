package graphsim

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The encoder writes model values the way Graph does: nulls for unset
// properties, [] for empty collections, only the $select-ed properties, and
// "@odata.type" first. It uses cached per-type field plans instead of
// encoding/json so that a 999-item page costs a few milliseconds, and so that
// the ",omitzero means null" convention of the model can be honoured.

type fieldInfo struct {
	name      string
	key       []byte // `"name":`
	index     int
	omitZero  bool
	omitEmpty bool
	noDefault bool
	nav       bool
	typ       reflect.Type
}

type typeInfo struct {
	fields []fieldInfo
	byName map[string]int
}

var typeCache sync.Map // reflect.Type -> *typeInfo

var timeType = reflect.TypeFor[time.Time]()

func infoFor(t reflect.Type) *typeInfo {
	if ti, ok := typeCache.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{byName: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		g := sf.Tag.Get("graph")
		fi := fieldInfo{
			name:      name,
			key:       appendString(nil, name),
			index:     i,
			omitZero:  strings.Contains(opts, "omitzero"),
			omitEmpty: strings.Contains(opts, "omitempty"),
			noDefault: g == "nodefault",
			nav:       g == "nav",
			typ:       sf.Type,
		}
		fi.key = append(fi.key, ':')
		ti.byName[name] = len(ti.fields)
		ti.fields = append(ti.fields, fi)
	}
	actual, _ := typeCache.LoadOrStore(t, ti)
	return actual.(*typeInfo)
}

// entityOptions controls how one top-level entity is written.
type entityOptions struct {
	sel       []string // nil: default property set
	odataType string   // written first when not empty (directoryObject collections)
	expand    string   // a navigation property to include
	extra     func(b []byte) []byte
}

// appendEntity writes one entity object. v must be a struct value.
func appendEntity(b []byte, v reflect.Value, o entityOptions) []byte {
	ti := infoFor(v.Type())
	b = append(b, '{')
	first := true
	if o.odataType != "" {
		b = append(b, `"@odata.type":`...)
		b = appendString(b, o.odataType)
		first = false
	}
	for i := range ti.fields {
		f := &ti.fields[i]
		switch {
		case f.name == "@odata.type":
			// Polymorphic items keep their type even under $select.
		case f.nav:
			if o.expand != f.name {
				continue
			}
		case o.sel != nil:
			if !contains(o.sel, f.name) {
				continue
			}
		case f.noDefault:
			continue
		}
		fv := v.Field(f.index)
		// An expanded navigation is always written, as null when absent.
		if f.omitEmpty && !f.nav && isEmpty(fv) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		if f.omitZero && fv.IsZero() {
			b = append(b, "null"...)
			continue
		}
		b = appendValue(b, fv)
	}
	if o.extra != nil {
		if !first {
			b = append(b, ',')
		}
		b = o.extra(b)
	}
	return append(b, '}')
}

func appendValue(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		return appendString(b, v.String())
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.AppendFloat(b, v.Float(), 'f', -1, 64)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, "null"...)
		}
		return appendValue(b, v.Elem())
	case reflect.Slice, reflect.Array:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, v.Index(i))
		}
		return append(b, ']')
	case reflect.Struct:
		if v.Type() == timeType {
			var t time.Time
			if v.CanAddr() {
				// Through a pointer: boxing a time.Time would allocate per field.
				t = *v.Addr().Interface().(*time.Time)
			} else {
				t = v.Interface().(time.Time)
			}
			if t.IsZero() {
				return append(b, "null"...)
			}
			b = append(b, '"')
			b = t.UTC().AppendFormat(b, time.RFC3339Nano)
			return append(b, '"')
		}
		if v.NumField() == 0 {
			return append(b, "null"...)
		}
		return appendEntity(b, v, entityOptions{sel: nil})
	case reflect.Map:
		// Only map[string]string is used (batch headers).
		b = append(b, '{')
		keys := v.MapKeys()
		sortValues(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k.String())
			b = append(b, ':')
			b = appendValue(b, v.MapIndex(k))
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

func sortValues(keys []reflect.Value) {
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j].String() < keys[j-1].String(); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	case reflect.Struct:
		return v.IsZero()
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Unlike encoding/json it does not
// escape <, > and &, as Graph does not; hostile display names therefore reach
// the product unescaped and must be escaped by whatever renders them.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
