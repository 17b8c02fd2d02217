package graph

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// readOnly is the Reader's transport guard: GETs pass, and a POST to $batch
// passes when every request in it is a GET. Anything else is refused before
// it leaves the process, so the collector identity never writes even if
// someone grants it a write permission.
type readOnly struct{ next http.RoundTripper }

func (ro readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
		return ro.next.RoundTrip(req)
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/$batch"):
		if err := batchOfGets(req); err != nil {
			return nil, fmt.Errorf("graph reader refused a $batch: the collector identity is read-only: %w", err)
		}
		return ro.next.RoundTrip(req)
	}
	return nil, fmt.Errorf("graph reader refused %s %s: the collector identity is read-only; writes go through graph.Writer", req.Method, req.URL.Path)
}

// batchOfGets reads the $batch body, checks every item is a GET and puts
// the body back for sending.
func batchOfGets(req *http.Request) error {
	if req.Body == nil {
		return nil
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	plain := raw
	if strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		if plain, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("read body: %w", err)
		}
	}
	var batch struct {
		Requests []struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(plain, &batch); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	for _, r := range batch.Requests {
		if !strings.EqualFold(r.Method, http.MethodGet) {
			return fmt.Errorf("it holds %s %s", r.Method, r.URL)
		}
	}
	return nil
}
