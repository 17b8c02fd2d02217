package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// GetJSON reads a document and decodes its body into a T.
func GetJSON[T any](ctx context.Context, s Store, kind Kind, tenantID, id string) (T, Doc, error) {
	var v T
	d, err := s.Get(ctx, kind, tenantID, id)
	if err != nil {
		return v, d, err
	}
	if err := json.Unmarshal(d.Body, &v); err != nil {
		return v, d, fmt.Errorf("decode %s/%s/%s: %w", kind, tenantID, id, err)
	}
	return v, d, nil
}

// Encode marshals v into d.Body and returns d, for callers that build a Doc
// from a domain value in one expression.
func Encode(d Doc, v any) (Doc, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return d, fmt.Errorf("encode %s/%s/%s: %w", d.Kind, d.TenantID, d.ID, err)
	}
	d.Body = b
	return d, nil
}

// Each walks every page of q and calls fn for each document, stopping at the
// first error fn or the store returns.
func Each(ctx context.Context, s Store, q Query, fn func(Doc) error) error {
	for {
		p, err := s.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, d := range p.Docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		if p.Continuation == "" {
			return nil
		}
		q.Continuation = p.Continuation
	}
}

// DecodeAll walks every page of q and decodes each body into a T.
func DecodeAll[T any](ctx context.Context, s Store, q Query) ([]T, error) {
	var out []T
	err := Each(ctx, s, q, func(d Doc) error {
		var v T
		if err := json.Unmarshal(d.Body, &v); err != nil {
			return fmt.Errorf("decode %s/%s/%s: %w", d.Kind, d.TenantID, d.ID, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
