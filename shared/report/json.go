package report

import (
	"encoding/json"
	"fmt"
)

// JSON renders the report with every number and the ids it came from.
func JSON(r Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render %s json: %w", r.Kind, err)
	}
	return append(b, '\n'), nil
}
