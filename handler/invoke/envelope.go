package invoke

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Request is the envelope the host POSTs for a non-forwarded invocation. Data
// holds one entry per trigger or input binding name; Metadata holds trigger
// metadata, with strings JSON-quoted and numbers as strings.
type Request struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// Response is the envelope the host expects back.
type Response struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// Sys is the host's "sys" metadata entry.
type Sys struct {
	MethodName string    `json:"MethodName"`
	UtcNow     time.Time `json:"UtcNow"`
	RandGuid   string    `json:"RandGuid"`
}

// UnmarshalJSON tolerates a zone-less UtcNow, as ScheduleStatus does, so one
// odd timestamp does not cost the rest of the entry.
func (s *Sys) UnmarshalJSON(b []byte) error {
	var raw struct {
		MethodName string
		UtcNow     string
		RandGuid   string
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*s = Sys{MethodName: raw.MethodName, RandGuid: raw.RandGuid}
	if raw.UtcNow != "" {
		t, err := parseHostTime(raw.UtcNow)
		if err != nil {
			return fmt.Errorf("sys.UtcNow %q is not a timestamp", raw.UtcNow)
		}
		s.UtcNow = t
	}
	return nil
}

// ErrMalformed marks an envelope the handler cannot decode. It is permanent:
// redelivering the same bytes cannot succeed.
var ErrMalformed = errors.New("malformed invocation envelope")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// DecodeRequest parses an envelope body. It rejects bodies that are not a JSON
// object with a Data object, so a truncated or hostile body fails clearly.
func DecodeRequest(body []byte) (Request, error) {
	var r Request
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil {
		return r, malformed("body is not an invocation envelope: %v", err)
	}
	// Decoder.More reports false for a trailing '}' or ']', so check that
	// only whitespace follows the envelope instead.
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return Request{}, malformed("trailing data after the envelope")
	}
	if r.Data == nil {
		return r, malformed("envelope has no Data object")
	}
	if r.Metadata == nil {
		r.Metadata = map[string]json.RawMessage{}
	}
	return r, nil
}

// Sys returns the "sys" metadata; absent or unreadable values give a zero Sys.
func (r Request) Sys() Sys {
	var s Sys
	if raw, ok := r.Metadata["sys"]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// MetaString returns a metadata value as a plain string. The host serialises
// strings twice ("\"abc\"") and numbers as strings ("1"); both unwrap here.
func (r Request) MetaString(key string) (string, bool) {
	raw, ok := lookupFold(r.Metadata, key)
	if !ok || string(raw) == "null" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		// A bare JSON number or bool is also a usable scalar.
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			return n.String(), true
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err == nil {
			return strconv.FormatBool(b), true
		}
		return "", false
	}
	if strings.HasPrefix(s, `"`) {
		// The inner layer is JSON (Newtonsoft), not Go syntax: "\/" and
		// "\u00e9" must unescape as JSON does.
		var u string
		if err := json.Unmarshal([]byte(s), &u); err == nil {
			return u, true
		}
	}
	return s, true
}

// lookupFold finds key exactly, then case-insensitively: hosts differ in the
// casing of some metadata names across extension versions.
func lookupFold(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// BindingBytes returns the payload of a trigger binding as raw bytes. The host
// sends a message body as a JSON string holding the body text, as a JSON object
// when the body was itself JSON on some host versions, or as base64 for binary
// bodies; all three come back as the original body bytes.
func (r Request) BindingBytes(name string) ([]byte, error) {
	raw, ok := lookupFold(r.Data, name)
	if !ok {
		return nil, malformed("binding %q is missing from Data", name)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, malformed("binding %q is null", name)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, malformed("binding %q: %v", name, err)
		}
		if json.Valid([]byte(s)) {
			return []byte(s), nil
		}
		// Binary bodies arrive base64-encoded; only accept that reading when it
		// yields a JSON object or array, otherwise the string itself is the
		// body: plain text such as "MTIz" is also valid base64 (of "123").
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && isJSONContainer(b) {
			return b, nil
		}
		return []byte(s), nil
	case '{', '[':
		return raw, nil
	default:
		return nil, malformed("binding %q is neither a string nor an object", name)
	}
}

// isJSONContainer reports whether b is a valid JSON object or array.
func isJSONContainer(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}
