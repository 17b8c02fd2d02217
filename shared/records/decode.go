package records

import (
	"context"
	"encoding/json"
	"fmt"

	"m365security/shared/store"
)

// readBounded decodes every document q matches, refusing past max so a
// tenant that accumulated too much is told to narrow the range rather than
// loaded whole. tooMany says what to narrow.
func readBounded[T any](ctx context.Context, s store.Store, q store.Query, max int, tooMany string) ([]T, error) {
	var out []T
	err := store.Each(ctx, s, q, func(d store.Doc) error {
		if len(out) >= max {
			return fmt.Errorf("more than %d %s", max, tooMany)
		}
		var v T
		if err := decode(d, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

func decode(d store.Doc, v any) error {
	if err := json.Unmarshal(d.Body, v); err != nil {
		return fmt.Errorf("decode %s/%s: %w", d.Kind, d.ID, err)
	}
	return nil
}
