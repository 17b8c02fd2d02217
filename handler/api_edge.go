package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"m365security/shared/controls"
	"m365security/shared/store"
)

// maxJSONBody bounds request bodies of the JSON API.
const maxJSONBody = 1 << 20

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: fmt.Sprintf(format, args...)}})
}

// apiHandler is an API endpoint that returns an error instead of writing
// one, so failures are classified in one place.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with the status and code to answer it with.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, "badRequest", fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{http.StatusNotFound, "notFound", fmt.Sprintf(format, args...)}
}

// serve adapts an apiHandler: it recovers panics and maps errors to the
// contract's error shape. Internal errors are logged in full but answered
// with a generic message: store or Graph errors can carry internals.
func (a *app) serve(function string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := a.log.With("function", function, "invocation_id", r.Header.Get("X-Azure-Functions-InvocationId"))
		defer func() {
			if p := recover(); p != nil {
				log.Error("request panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internalError", "internal error")
			}
		}()
		err := h(w, r)
		if err == nil {
			return
		}
		var he *httpError
		var ve *controls.ValidationError
		switch {
		case errors.As(err, &he):
			writeError(w, he.status, he.code, "%s", he.msg)
		case errors.As(err, &ve):
			writeError(w, http.StatusBadRequest, "validationFailed", "%s", ve.Error())
		case errors.Is(err, store.ErrInvalid):
			// Ids and queries from requests reach the store as they came; its
			// refusal is the client's mistake, said without store internals.
			writeError(w, http.StatusBadRequest, "badRequest", "%s", invalidMessage(err))
		case errors.Is(err, r.Context().Err()) && r.Context().Err() != nil:
			log.Warn("request cancelled", "error", err.Error())
		default:
			log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
			writeError(w, http.StatusInternalServerError, "internalError", "internal error; see the function log")
		}
	})
}

// tenant reads and checks ?tenant=: missing is 400, not monitored is 404.
func (a *app) tenant(r *http.Request) (string, error) {
	t := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("tenant")))
	if t == "" {
		return "", badRequest("query parameter tenant is required")
	}
	if !a.tenants[t] {
		return "", &httpError{http.StatusNotFound, "tenantNotFound", "tenant is not monitored by this deployment"}
	}
	return t, nil
}

// decodeBody reads a JSON body strictly: size-limited, one object, no
// unknown fields (a typo in a risk acceptance must not be silently dropped).
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &httpError{http.StatusUnsupportedMediaType, "unsupportedMediaType", "Content-Type must be application/json"}
	}
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpError{http.StatusRequestEntityTooLarge, "payloadTooLarge", fmt.Sprintf("body exceeds %d bytes", maxJSONBody)}
		}
		if errors.Is(err, io.EOF) {
			return badRequest("request body is empty")
		}
		return badRequest("request body is not valid JSON for this endpoint: %v", err)
	}
	if dec.More() {
		return badRequest("request body has data after the JSON object")
	}
	return nil
}

// strictJSON decodes one JSON value into v refusing unknown fields, for
// bodies first read raw.
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("request body is not valid JSON for this endpoint: %v", err)
	}
	return nil
}

// dateRange parses from/to (YYYY-MM-DD, to inclusive) into [from, to+1d).
// Without them it defaults to the last defaultDays days.
func dateRange(r *http.Request, now time.Time, defaultDays int) (time.Time, time.Time, error) {
	q := r.URL.Query()
	parse := func(name string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return t, badRequest("%s must be a date YYYY-MM-DD, got %q", name, truncate(v, 40))
		}
		return t, nil
	}
	from, err := parse("from")
	if err != nil {
		return from, from, err
	}
	to, err := parse("to")
	if err != nil {
		return from, to, err
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if to.IsZero() {
		to = today
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -defaultDays)
	}
	if to.Before(from) {
		return from, to, badRequest("from must not be after to")
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return from, to, badRequest("the range may span at most three years")
	}
	return from, to.AddDate(0, 0, 1), nil
}

// invalidMessage keeps the store's reason (after its sentinel) and drops
// the document path it wraps around it.
func invalidMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, store.ErrInvalid.Error()+": "); i >= 0 {
		return "invalid request: " + msg[i+len(store.ErrInvalid.Error())+2:]
	}
	return "invalid request"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
