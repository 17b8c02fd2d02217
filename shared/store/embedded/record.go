package embedded

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"m365security/shared/store"
)

// timeKeyLayout is the layout store.TimeKey formats with.
const timeKeyLayout = "2006-01-02T15:04:05.000000000Z"

// timeKeyLen is the fixed width of a store.TimeKey.
var timeKeyLen = len(store.TimeKey(time.Time{}))

// record is a stored document: a length-prefixed JSON header followed by the
// body bytes exactly as written.
type record struct {
	Time    string            `json:"t"`
	Attrs   map[string]string `json:"a,omitempty"`
	ETag    string            `json:"e"`
	TTL     int64             `json:"l,omitempty"` // nanoseconds, as written
	Expires int64             `json:"x,omitempty"` // Unix nanoseconds; 0 never
	body    []byte
}

func (r record) encode() []byte {
	meta, err := json.Marshal(r)
	if err != nil {
		// Only strings and integers: Marshal cannot fail.
		panic(fmt.Sprintf("encode record header: %v", err))
	}
	buf := make([]byte, 0, binary.MaxVarintLen64+len(meta)+len(r.body))
	buf = binary.AppendUvarint(buf, uint64(len(meta)))
	buf = append(buf, meta...)
	return append(buf, r.body...)
}

// decodeRecord parses raw. The body aliases raw, which bbolt only keeps valid
// for the transaction; doc copies it out.
func decodeRecord(raw []byte) (record, error) {
	var r record
	n, k := binary.Uvarint(raw)
	if k <= 0 || n > uint64(len(raw)-k) {
		return r, errors.New("decode record: corrupt header length")
	}
	if err := json.Unmarshal(raw[k:k+int(n)], &r); err != nil {
		return r, fmt.Errorf("decode record: %w", err)
	}
	r.body = raw[k+int(n):]
	return r, nil
}

func (r record) expired(now time.Time) bool {
	return r.Expires != 0 && now.UnixNano() >= r.Expires
}

func (r record) doc(kind store.Kind, tenantID, id string) (store.Doc, error) {
	t, err := time.Parse(timeKeyLayout, r.Time)
	if err != nil {
		return store.Doc{}, fmt.Errorf("decode record time: %w", err)
	}
	return store.Doc{
		Kind:     kind,
		TenantID: tenantID,
		ID:       id,
		Time:     t,
		Attrs:    r.Attrs,
		Body:     bytes.Clone(r.body),
		ETag:     r.ETag,
		TTL:      time.Duration(r.TTL),
	}, nil
}

func indexKey(timeKey, id string) []byte {
	return []byte(timeKey + "\x00" + id)
}

// expiryKey orders expiry entries by time; kind, tenant and id follow,
// length-prefixed so any bytes are allowed in them.
func expiryKey(expires int64, kind store.Kind, tenantID, id string) []byte {
	k := []byte(store.TimeKey(time.Unix(0, expires)))
	for _, part := range []string{string(kind), tenantID, id} {
		k = binary.AppendUvarint(k, uint64(len(part)))
		k = append(k, part...)
	}
	return k
}

func parseExpiryKey(k []byte) (store.Kind, string, string, error) {
	var parts [3]string
	rest := k[timeKeyLen:]
	for i := range parts {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return "", "", "", errors.New("decode expiry entry: corrupt key")
		}
		parts[i] = string(rest[w : w+int(n)])
		rest = rest[w+int(n):]
	}
	return store.Kind(parts[0]), parts[1], parts[2], nil
}

func attrsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// token is a continuation: the (time, id) of the last document returned and
// the direction of the query that produced it. It is base64url JSON so it
// stays opaque and URL-safe.
type token struct {
	V    int    `json:"v"`
	Time string `json:"t"`
	ID   string `json:"i"`
	Desc bool   `json:"d,omitempty"`
}

const tokenVersion = 1

func encodeToken(lastKey []byte, desc bool) string {
	b, _ := json.Marshal(token{
		V:    tokenVersion,
		Time: string(lastKey[:timeKeyLen]),
		ID:   string(lastKey[timeKeyLen+1:]),
		Desc: desc,
	})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken returns the index key the continuation resumes after.
func decodeToken(s string, desc bool) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: continuation token is not base64url", store.ErrInvalid)
	}
	var t token
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("%w: continuation token is malformed", store.ErrInvalid)
	}
	if t.V != tokenVersion || t.ID == "" {
		return nil, fmt.Errorf("%w: continuation token is malformed", store.ErrInvalid)
	}
	if _, err := time.Parse(timeKeyLayout, t.Time); err != nil || len(t.Time) != timeKeyLen {
		return nil, fmt.Errorf("%w: continuation token has a bad time", store.ErrInvalid)
	}
	if t.Desc != desc {
		return nil, fmt.Errorf("%w: continuation token belongs to a query in the other direction", store.ErrInvalid)
	}
	return indexKey(t.Time, t.ID), nil
}

// validateQuery checks q and returns the index key its continuation resumes
// after, or nil for the first page.
func validateQuery(q store.Query) ([]byte, error) {
	if err := q.ValidateRead(); err != nil {
		return nil, err
	}
	if q.Continuation == "" {
		return nil, nil
	}
	return decodeToken(q.Continuation, q.Descending)
}
