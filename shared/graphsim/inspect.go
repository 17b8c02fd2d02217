package graphsim

import (
	"encoding/json"
	"net/http"
)

// Inspection routes (outside /v1.0): what the simulator received, so a
// person running the demo can see the writes response actions made and the
// notices they sent, as a tenant admin would in the audit log and mailbox.
const (
	// WritesPath answers GET with {"writes":[...]}, oldest first.
	WritesPath = "/graphsim/writes"
	// SentMailPath answers GET with {"sentMail":[...]}, oldest first.
	SentMailPath = "/graphsim/sentMail"
)

func (s *Server) serveInspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	var v any
	if r.URL.Path == WritesPath {
		v = map[string][]Write{"writes": nonNilSlice(s.Writes())}
	} else {
		v = map[string][]SentMail{"sentMail": nonNilSlice(s.SentMail())}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
