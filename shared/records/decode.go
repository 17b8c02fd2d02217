package records

import (
	"encoding/json"
	"fmt"

	"m365security/shared/store"
)

func decode(d store.Doc, v any) error {
	if err := json.Unmarshal(d.Body, v); err != nil {
		return fmt.Errorf("decode %s/%s: %w", d.Kind, d.ID, err)
	}
	return nil
}
