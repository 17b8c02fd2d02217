package store

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxIDBytes is Cosmos DB's id limit; the embedded store applies it too so
// both stores accept the same ids.
const MaxIDBytes = 1023

var attrKeyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// ValidateID applies Cosmos DB's id rules up front, so a bad id is
// ErrInvalid (a 400 at the API) in both stores rather than a malformed
// request URL in one and a stored oddity in the other.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: document id is empty", ErrInvalid)
	case len(id) > MaxIDBytes:
		return fmt.Errorf("%w: document id is longer than %d bytes", ErrInvalid, MaxIDBytes)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: document id is not UTF-8", ErrInvalid)
	case strings.ContainsAny(id, `/\?#`):
		return fmt.Errorf("%w: document id contains one of / \\ ? #", ErrInvalid)
	}
	return nil
}

// ValidateKey checks a document's address: a known kind, a tenant and a
// valid id.
func ValidateKey(kind Kind, tenantID, id string) error {
	if !slices.Contains(Kinds, kind) {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, kind)
	}
	if tenantID == "" {
		return fmt.Errorf("%w: tenant id is empty", ErrInvalid)
	}
	return ValidateID(id)
}

// ValidateAttrKeys requires identifier keys: both stores put them in query
// text or index paths.
func ValidateAttrKeys(attrs map[string]string) error {
	for k := range attrs {
		if !attrKeyPattern.MatchString(k) {
			return fmt.Errorf("%w: attr key %q is not an identifier", ErrInvalid, k)
		}
	}
	return nil
}

// ValidateWrite checks everything a Put requires of doc under mode.
func (d Doc) ValidateWrite(mode WriteMode) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if err := ValidateKey(d.Kind, d.TenantID, d.ID); err != nil {
		return err
	}
	if err := ValidateAttrKeys(d.Attrs); err != nil {
		return err
	}
	switch mode {
	case Upsert, Create:
	case IfMatch:
		if d.ETag == "" {
			// Without an etag the replace would be unconditional.
			return fmt.Errorf("%w: if-match write without an etag", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: unknown write mode %d", ErrInvalid, mode)
	}
	return nil
}

// ValidateRead checks a query and the parts of it both stores require.
func (q Query) ValidateRead() error {
	if err := q.Validate(); err != nil {
		return err
	}
	if !slices.Contains(Kinds, q.Kind) {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, q.Kind)
	}
	return ValidateAttrKeys(q.Attrs)
}
