package invoke

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimerInfo is the timer trigger's binding data.
type TimerInfo struct {
	Schedule struct {
		AdjustForDST bool `json:"AdjustForDST"`
	} `json:"Schedule"`
	// ScheduleStatus is nil when the schedule is not monitored.
	ScheduleStatus *ScheduleStatus `json:"ScheduleStatus"`
	IsPastDue      bool            `json:"IsPastDue"`
}

// ScheduleStatus is the host's record of the last and next occurrences.
type ScheduleStatus struct {
	Last        time.Time `json:"Last"`
	Next        time.Time `json:"Next"`
	LastUpdated time.Time `json:"LastUpdated"`
}

// UnmarshalJSON reads the host's timestamps, which carry a zone when the
// host knows one ("+00:00") and none for an unset .NET DateTime: before the
// first monitored run Last is "0001-01-01T00:00:00", which time.Time's own
// decoder rejects.
func (s *ScheduleStatus) UnmarshalJSON(b []byte) error {
	var raw struct {
		Last, Next, LastUpdated *string
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		in   *string
		out  *time.Time
	}{{"Last", raw.Last, &s.Last}, {"Next", raw.Next, &s.Next}, {"LastUpdated", raw.LastUpdated, &s.LastUpdated}} {
		if f.in == nil || *f.in == "" {
			continue
		}
		t, err := parseHostTime(*f.in)
		if err != nil {
			return fmt.Errorf("ScheduleStatus.%s %q is not a timestamp", f.name, *f.in)
		}
		*f.out = t
	}
	return nil
}

// DecodeTimer reads the timer binding called name.
func (r Request) DecodeTimer(name string) (TimerInfo, error) {
	var t TimerInfo
	b, err := r.BindingBytes(name)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, malformed("timer binding %q: %v", name, err)
	}
	return t, nil
}

// Message is a Service Bus message as the trigger delivers it.
type Message struct {
	Body          []byte
	MessageID     string
	CorrelationID string
	ContentType   string
	Subject       string
	LockToken     string
	// DeliveryCount starts at 1 for the first delivery.
	DeliveryCount  int
	SequenceNumber int64
	EnqueuedTime   time.Time
	// ApplicationProperties are the sender's custom properties.
	ApplicationProperties map[string]any
}

// DecodeMessage reads the Service Bus trigger binding called name and its
// metadata. Every metadata field is optional except that a present field must
// parse: a DeliveryCount of "abc" is a malformed envelope, not zero.
func (r Request) DecodeMessage(name string) (Message, error) {
	var m Message
	body, err := r.BindingBytes(name)
	if err != nil {
		return m, err
	}
	m.Body = body
	m.MessageID, _ = r.MetaString("MessageId")
	m.CorrelationID, _ = r.MetaString("CorrelationId")
	m.ContentType, _ = r.MetaString("ContentType")
	if m.Subject, _ = r.MetaString("Subject"); m.Subject == "" {
		m.Subject, _ = r.MetaString("Label") // extension 4.x name
	}
	m.LockToken, _ = r.MetaString("LockToken")
	if s, ok := r.MetaString("DeliveryCount"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return m, malformed("DeliveryCount %q is not a count", s)
		}
		m.DeliveryCount = n
	}
	if s, ok := r.MetaString("SequenceNumber"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return m, malformed("SequenceNumber %q is not a number", s)
		}
		m.SequenceNumber = n
	}
	if m.EnqueuedTime, err = r.enqueuedTime(); err != nil {
		return m, err
	}
	for _, key := range []string{"ApplicationProperties", "UserProperties"} {
		raw, ok := lookupFold(r.Metadata, key)
		if !ok || string(raw) == "null" {
			continue
		}
		props := map[string]any{}
		if err := json.Unmarshal(raw, &props); err != nil {
			return m, malformed("%s is not an object: %v", key, err)
		}
		if len(props) > 0 {
			m.ApplicationProperties = props
			break
		}
	}
	return m, nil
}

// hostTimeLayout is how the host writes zone-less times such as
// EnqueuedTimeUtc: UTC implied, up to 7 fractional digits (.NET ticks). The
// envelope encoders write it the same way.
const hostTimeLayout = "2006-01-02T15:04:05.9999999"

// enqueuedTime prefers the zoned EnqueuedTime (extension 5.x) and falls back to
// EnqueuedTimeUtc, which carries no zone suffix. Both are checked when
// present: a field that does not parse is a malformed envelope.
func (r Request) enqueuedTime() (time.Time, error) {
	var zoned, utc time.Time
	if s, ok := r.MetaString("EnqueuedTime"); ok && s != "" {
		t, err := parseHostTime(s)
		if err != nil {
			return time.Time{}, malformed("EnqueuedTime %q is not a timestamp", s)
		}
		zoned = t
	}
	if s, ok := r.MetaString("EnqueuedTimeUtc"); ok && s != "" {
		t, err := parseHostTime(s)
		if err != nil {
			return time.Time{}, malformed("EnqueuedTimeUtc %q is not a timestamp", s)
		}
		utc = t
	}
	if !zoned.IsZero() {
		return zoned, nil
	}
	return utc, nil
}

// parseHostTime reads a host timestamp: RFC 3339 with a zone, or zone-less
// (an unspecified-kind .NET DateTime, UTC on Azure hosts). It returns UTC.
func parseHostTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.ParseInLocation(hostTimeLayout, s, time.UTC)
}

// reservedMeta are the metadata names the trigger itself sets. A JSON body's
// promoted properties never shadow them, compared case-insensitively because
// the decoder looks names up that way.
var reservedMeta = []string{
	"DeliveryCount", "SequenceNumber", "MessageId", "LockToken", "EnqueuedTimeUtc", "EnqueuedTime",
	"ExpiresAtUtc", "ExpiresAt", "ContentType", "CorrelationId", "Subject", "Label", "To", "ReplyTo",
	"SessionId", "ApplicationProperties", "UserProperties", "MessageReceiver", "MessageSession",
	"MessageActions", "SessionActions", "ReceiveActions", "Client", "sys",
}

func isReservedMeta(k string) bool {
	for _, r := range reservedMeta {
		if strings.EqualFold(k, r) {
			return true
		}
	}
	return false
}

// quoted renders a metadata string the way the host does: JSON-serialised
// once more, so the envelope carries "\"value\"".
func quoted(s string) json.RawMessage {
	inner, _ := json.Marshal(s)
	outer, _ := json.Marshal(string(inner))
	return outer
}

func plain(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// TimerEnvelope builds the envelope the host sends for a timer firing at now
// whose previous monitored run was last (zero when never run).
func TimerEnvelope(function, binding string, now, last, next time.Time, pastDue bool, randGUID string) ([]byte, error) {
	info := TimerInfo{IsPastDue: pastDue, ScheduleStatus: &ScheduleStatus{Last: last, Next: next, LastUpdated: last}}
	info.Schedule.AdjustForDST = true
	data, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode timer binding: %w", err)
	}
	return json.Marshal(Request{
		Data: map[string]json.RawMessage{binding: data},
		Metadata: map[string]json.RawMessage{
			"sys": sysJSON(function, now, randGUID),
		},
	})
}

// MessageEnvelope builds the envelope the Service Bus extension (5.x) sends for
// m: the body as a JSON string, quoted metadata strings, numbers as strings,
// EnqueuedTimeUtc without a zone, and a JSON body's top-level scalar
// properties promoted into Metadata.
//
// The body must be UTF-8 text (JSON, as every product message is): a JSON
// string cannot carry other bytes losslessly, so they are refused rather than
// silently replaced.
func MessageEnvelope(function, binding string, m Message, now time.Time, randGUID string) ([]byte, error) {
	if !utf8.Valid(m.Body) {
		return nil, fmt.Errorf("encode message %s: body is not UTF-8 text", m.MessageID)
	}
	meta := map[string]json.RawMessage{
		"DeliveryCount":   plain(strconv.Itoa(m.DeliveryCount)),
		"SequenceNumber":  plain(strconv.FormatInt(m.SequenceNumber, 10)),
		"MessageId":       quoted(m.MessageID),
		"LockToken":       quoted(m.LockToken),
		"EnqueuedTimeUtc": plain(m.EnqueuedTime.UTC().Format(hostTimeLayout)),
		"EnqueuedTime":    plain(m.EnqueuedTime.UTC().Format(hostTimeLayout + "+00:00")),
		"sys":             sysJSON(function, now, randGUID),
	}
	if m.ContentType != "" {
		meta["ContentType"] = quoted(m.ContentType)
	}
	if m.CorrelationID != "" {
		meta["CorrelationId"] = quoted(m.CorrelationID)
	}
	if m.Subject != "" {
		meta["Subject"] = quoted(m.Subject)
		meta["Label"] = quoted(m.Subject)
	}
	props := m.ApplicationProperties
	if props == nil {
		props = map[string]any{}
	}
	pb, err := json.Marshal(props)
	if err != nil {
		return nil, fmt.Errorf("encode application properties: %w", err)
	}
	meta["ApplicationProperties"] = pb
	meta["UserProperties"] = pb
	// The host promotes a JSON body's top-level properties into Metadata;
	// reproduce it so decoders cannot come to rely on their absence.
	var top map[string]json.RawMessage
	if json.Unmarshal(m.Body, &top) == nil {
		for k, v := range top {
			if isReservedMeta(k) {
				continue
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				meta[k] = quoted(s)
			} else {
				meta[k] = v
			}
		}
	}
	return json.Marshal(Request{
		Data:     map[string]json.RawMessage{binding: plain(string(m.Body))},
		Metadata: meta,
	})
}

func sysJSON(function string, now time.Time, randGUID string) json.RawMessage {
	b, _ := json.Marshal(Sys{MethodName: function, UtcNow: now.UTC(), RandGuid: randGUID})
	return b
}
