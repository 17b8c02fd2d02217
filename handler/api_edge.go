package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
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

// writeJSON encodes v before writing anything, so a value that cannot be
// encoded is answered 500 with the JSON error instead of a status with an
// empty body; it returns that encoding error.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	err := enc.Encode(v)
	if err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = enc.Encode(map[string]apiError{"error": {Code: "internalError", Message: "internal error: the response could not be encoded"}})
		err = fmt.Errorf("encode response: %w", err)
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return err
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

// contractErrors answers what mux has no route for, an unknown path (404)
// or a known path with another method (405, with Allow), with the contract's
// JSON error instead of ServeMux's plain text.
func contractErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// ServeHTTP, not h: only it sets the request's path values.
			mux.ServeHTTP(w, r)
			return
		}
		// Let the mux decide between 404 and 405; only the wording is ours.
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		path := truncate(r.URL.Path, 100)
		switch rec.Code {
		case http.StatusNotFound:
			writeError(w, rec.Code, "notFound", "no route %s", path)
		case http.StatusMethodNotAllowed:
			allow := rec.Header().Get("Allow")
			w.Header().Set("Allow", allow)
			writeError(w, rec.Code, "methodNotAllowed", "%s is not allowed on %s; allowed: %s", truncate(r.Method, 20), path, allow)
		default:
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
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
		return jsonDecodeError(err, maxJSONBody)
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
		return jsonDecodeError(err, maxJSONBody)
	}
	return nil
}

// jsonDecodeError words a decoding failure for the client: the field and
// the JSON type it needs, never the Go types behind it.
func jsonDecodeError(err error, limit int) *httpError {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tparse *time.ParseError
	switch {
	case errors.As(err, &tooBig):
		return &httpError{http.StatusRequestEntityTooLarge, "payloadTooLarge", fmt.Sprintf("body exceeds %d bytes", limit)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &httpError{http.StatusRequestTimeout, "requestTimeout", "the request body did not arrive in time"}
	case errors.Is(err, io.EOF):
		return &httpError{http.StatusBadRequest, "badRequest", "request body is empty"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &httpError{http.StatusBadRequest, "badRequest", "request body ends before its JSON is complete"}
	case errors.As(err, &syntax):
		return &httpError{http.StatusBadRequest, "badRequest", fmt.Sprintf("request body is not valid JSON at byte %d: %s",
			syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &httpError{http.StatusBadRequest, "badRequest", "request body must be " + jsonKind(typ.Type)}
		}
		return &httpError{http.StatusBadRequest, "badRequest", fmt.Sprintf("field %s must be %s", truncate(field, 80), jsonKind(typ.Type))}
	case errors.As(err, &tparse) || strings.Contains(err.Error(), "Time.UnmarshalJSON"):
		return &httpError{http.StatusBadRequest, "badRequest", "a time must be an RFC 3339 string such as 2026-01-31T09:00:00Z"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &httpError{http.StatusBadRequest, "badRequest", "unknown field " +
			truncate(strings.TrimPrefix(err.Error(), "json: unknown field "), 80)}
	}
	return &httpError{http.StatusBadRequest, "badRequest", "request body could not be read as JSON"}
}

// jsonKind names the JSON value a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a JSON value"
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number in range"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number in range"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a JSON value of another type"
}

// The dates a from or to may name.
var (
	minQueryDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxQueryDate = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
)

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
		// Outside these, a date is a mistake: 0001-01-01 would read as "not
		// given" and 9999-12-31 overflows into year 10000 once made exclusive.
		if t.Before(minQueryDate) || t.After(maxQueryDate) {
			return t, badRequest("%s must be a date between %s and %s", name, minQueryDate.Format(time.DateOnly), maxQueryDate.Format(time.DateOnly))
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
