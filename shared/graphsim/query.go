package graphsim

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// parseSelect splits and validates $select against the element types a
// collection can hold (several for directoryObject collections).
func parseSelect(raw string, typeName string, types ...reflect.Type) ([]string, *Fault) {
	if raw == "" {
		return nil, nil
	}
	var sel []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, badRequest("BadRequest", "Parsing OData Select and Expand failed: Term '"+raw+"' is not valid in a $select or $expand expression.")
		}
		if p == "*" {
			// $select=* means every non-navigation property, including the
			// non-default ones; represented as the full list.
			for _, t := range types {
				for _, f := range infoFor(t).fields {
					if !f.nav && f.name != "@odata.type" && !contains(sel, f.name) {
						sel = append(sel, f.name)
					}
				}
			}
			continue
		}
		found := false
		for _, t := range types {
			if _, ok := infoFor(t).byName[p]; ok && p != "@odata.type" {
				found = true
				break
			}
		}
		if !found {
			return nil, badRequest("BadRequest", fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type '%s'.", p, typeName))
		}
		if !contains(sel, p) {
			sel = append(sel, p)
		}
	}
	return sel, nil
}

// parseTop reads $top. A value above the endpoint's maximum is rejected when
// Graph is known to reject it, and otherwise clamped.
func parseTop(raw string, rule pageRule, directory bool) (int, *Fault) {
	if raw == "" {
		return rule.def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > rule.max {
		if err == nil && n > rule.max && !rule.reject {
			return rule.max, nil
		}
		if directory {
			return 0, badRequest("Request_UnsupportedQuery", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", raw, rule.max))
		}
		return 0, badRequest("BadRequest", fmt.Sprintf("Invalid $top value '%s': the value must be between 1 and %d.", raw, rule.max))
	}
	return n, nil
}

// Skip tokens are opaque to clients but carry the offset into the underlying
// collection, the id of the item found there and a MAC binding them to the
// collection path and $filter, so a forged, truncated or reused token is a 400
// rather than a silently wrong page.
func encodeSkipToken(secret, scope string, offset int, id string) string {
	payload := strconv.Itoa(offset) + "|" + id
	return base64.RawURLEncoding.EncodeToString([]byte(payload + "|" + mac(secret, scope, payload)))
}

func decodeSkipToken(secret, scope, token string) (offset int, id string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, "", false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 {
		return 0, "", false
	}
	payload := parts[0] + "|" + parts[1]
	if mac(secret, scope, payload) != parts[2] {
		return 0, "", false
	}
	offset, err = strconv.Atoi(parts[0])
	if err != nil || offset < 0 {
		return 0, "", false
	}
	return offset, parts[1], true
}

func mac(secret, scope, payload string) string {
	h := fnv.New64a()
	h.Write([]byte(secret))
	h.Write([]byte{0})
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return strconv.FormatUint(h.Sum64(), 36)
}

// filter is a parsed $filter: comparisons joined by and/or, with parentheses.
// Supported: eq/ne on strings, booleans and null; eq/ne/gt/ge/lt/le on
// DateTimeOffset and numbers; property paths into complex properties
// (signInActivity/lastSignInDateTime). Anything else is a 400.
type filter interface {
	match(v reflect.Value) bool
}

type andFilter struct{ l, r filter }
type orFilter struct{ l, r filter }

func (f andFilter) match(v reflect.Value) bool { return f.l.match(v) && f.r.match(v) }
func (f orFilter) match(v reflect.Value) bool  { return f.l.match(v) || f.r.match(v) }

type litKind int

const (
	litNull litKind = iota
	litString
	litBool
	litTime
	litNumber
)

type cmpFilter struct {
	path []int
	op   string
	kind litKind
	s    string
	b    bool
	t    time.Time
	n    float64
}

func (f cmpFilter) match(v reflect.Value) bool {
	for _, i := range f.path {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return f.kind == litNull && f.op == "eq" || f.kind != litNull && f.op == "ne"
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return f.kind == litNull && f.op == "eq" || f.kind != litNull && f.op == "ne"
		}
		v = v.Elem()
	}
	if f.kind == litNull {
		return v.IsZero() == (f.op == "eq")
	}
	switch f.kind {
	case litString:
		eq := strings.EqualFold(v.String(), f.s)
		return eq == (f.op == "eq")
	case litBool:
		return (v.Bool() == f.b) == (f.op == "eq")
	case litTime:
		var t time.Time
		if v.CanAddr() {
			t = *v.Addr().Interface().(*time.Time)
		} else {
			t = v.Interface().(time.Time)
		}
		if t.IsZero() {
			return f.op == "ne"
		}
		return compare(t.Compare(f.t), f.op)
	case litNumber:
		var x float64
		switch v.Kind() {
		case reflect.Float32, reflect.Float64:
			x = v.Float()
		default:
			x = float64(v.Int())
		}
		c := 0
		if x < f.n {
			c = -1
		} else if x > f.n {
			c = 1
		}
		return compare(c, f.op)
	}
	return false
}

func compare(c int, op string) bool {
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

type filterParser struct {
	toks     []string
	pos      int
	typ      reflect.Type
	typeName string
}

type filterError struct{ msg string }

func (e filterError) Error() string { return e.msg }

// parseFilter parses raw against element type t. The error's message is what
// the 400 carries.
func parseFilter(raw string, t reflect.Type, typeName string) (filter, error) {
	toks, err := tokenize(raw)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, typ: t, typeName: typeName}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, filterError{"Invalid filter clause: syntax error at '" + p.toks[p.pos] + "'."}
	}
	return f, nil
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) or() (filter, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orFilter{l, r}
	}
	return l, nil
}

func (p *filterParser) and() (filter, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.pos++
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		l = andFilter{l, r}
	}
	return l, nil
}

func (p *filterParser) primary() (filter, error) {
	if p.peek() == "(" {
		p.pos++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, filterError{"Invalid filter clause: ')' expected."}
		}
		p.pos++
		return f, nil
	}
	if p.pos+3 > len(p.toks) {
		return nil, filterError{"Invalid filter clause: incomplete expression."}
	}
	prop, op, lit := p.toks[p.pos], strings.ToLower(p.toks[p.pos+1]), p.toks[p.pos+2]
	if op == "(" || p.toks[p.pos+2] == "(" {
		return nil, filterError{"Invalid filter clause: functions and lambda operators are not supported by the simulator."}
	}
	p.pos += 3
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		return nil, filterError{"Invalid filter clause: unsupported operator '" + op + "'."}
	}
	path, ft, err := p.resolve(prop)
	if err != nil {
		return nil, err
	}
	c := cmpFilter{path: path, op: op}
	if err := c.setLiteral(lit, ft); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *filterParser) resolve(prop string) ([]int, reflect.Type, error) {
	t := p.typ
	var path []int
	for _, seg := range strings.Split(prop, "/") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == timeType {
			return nil, nil, filterError{fmt.Sprintf("Could not find a property named '%s' on type '%s'.", seg, p.typeName)}
		}
		ti := infoFor(t)
		i, ok := ti.byName[seg]
		if !ok || ti.fields[i].nav {
			return nil, nil, filterError{fmt.Sprintf("Could not find a property named '%s' on type '%s'.", seg, p.typeName)}
		}
		path = append(path, ti.fields[i].index)
		t = ti.fields[i].typ
	}
	return path, t, nil
}

func (c *cmpFilter) setLiteral(lit string, ft reflect.Type) error {
	unsupported := filterError{"Invalid filter clause: the operator or literal is not supported for this property."}
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if lit == "null" {
		if c.op != "eq" && c.op != "ne" {
			return unsupported
		}
		c.kind = litNull
		return nil
	}
	switch {
	case ft == timeType:
		t, err := time.Parse(time.RFC3339Nano, lit)
		if err != nil {
			return filterError{"Invalid filter clause: '" + lit + "' is not a valid DateTimeOffset literal."}
		}
		c.kind, c.t = litTime, t
	case ft.Kind() == reflect.String:
		if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' || (c.op != "eq" && c.op != "ne") {
			return unsupported
		}
		c.kind, c.s = litString, strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
	case ft.Kind() == reflect.Bool:
		if (lit != "true" && lit != "false") || (c.op != "eq" && c.op != "ne") {
			return unsupported
		}
		c.kind, c.b = litBool, lit == "true"
	case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Float64:
		n, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return unsupported
		}
		c.kind, c.n = litNumber, n
	default:
		return unsupported
	}
	return nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			for {
				if j >= len(s) {
					return nil, filterError{"Invalid filter clause: unterminated string literal."}
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != ')' && s[j] != '\'' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	if len(toks) == 0 {
		return nil, filterError{"Invalid filter clause: empty expression."}
	}
	return toks, nil
}
