package incident

import (
	"reflect"
	"slices"
	"time"
)

// DefaultWindow is the default correlation window.
const DefaultWindow = 24 * time.Hour

// Decision kinds.
const (
	// DecisionDuplicate: the signal is already in the incident; apply it
	// there (it may carry a status change from its source).
	DecisionDuplicate = "duplicate"
	// DecisionJoin: the signal is about the incident's user or device within
	// the window; apply it there.
	DecisionJoin = "join"
	// DecisionNew: open a new incident with NewIncident.
	DecisionNew = "new"
)

// Timeline entry kinds written by Apply and NewIncident.
const (
	EntryOpened       = "opened"
	EntryAlertAdded   = "alertAdded"
	EntryAlertUpdated = "alertUpdated"
)

// Decision says what to do with a signal.
type Decision struct {
	Kind       string `json:"kind"`
	IncidentID string `json:"incidentId,omitempty"`
	Reason     string `json:"reason"`
}

// SignalState is what an incident remembers of one of its signals.
type SignalState struct {
	Source         string    `json:"source"`
	ID             string    `json:"id"`
	Status         string    `json:"status,omitempty"`
	Classification string    `json:"classification,omitempty"`
	Determination  string    `json:"determination,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	LastUpdateAt   time.Time `json:"lastUpdateAt"`
}

// HasSignal reports whether the signal (or alert) id is in the incident.
func (i Incident) HasSignal(id string) bool {
	return i.signalIndex(id) >= 0 || slices.Contains(i.AlertIDs, id)
}

func (i Incident) signalIndex(id string) int {
	return slices.IndexFunc(i.Signals, func(s SignalState) bool { return s.ID == id })
}

// Correlate decides where signal s belongs among the tenant's candidate
// incidents: the open ones and any that hold s's id. It is pure; now only
// stands in for a signal without times. A signal about the same user or
// device joins an open incident when its detection time lies within window
// of the incident's signals (the edge included). A resolved incident is
// never reopened: it takes only a signal detected before its resolution,
// and a signal detected after it starts a new incident.
func Correlate(candidates []Incident, s Signal, now time.Time, window time.Duration) Decision {
	for _, in := range candidates {
		if in.TenantID == s.TenantID && in.HasSignal(s.ID) {
			return Decision{Kind: DecisionDuplicate, IncidentID: in.ID, Reason: "signal " + s.ID + " is already in the incident"}
		}
	}
	at := signalTime(s, now)
	var best *Incident
	for i := range candidates {
		in := &candidates[i]
		if in.TenantID != s.TenantID || !sharesSubject(in.Entities, s.Entities) || !withinWindow(*in, at, window) || !takes(*in, at) {
			continue
		}
		if best == nil || preferred(*in, *best) {
			best = in
		}
	}
	if best == nil {
		return Decision{Kind: DecisionNew, Reason: "no incident about the same user or device within the window"}
	}
	if best.IsOpen() {
		return Decision{Kind: DecisionJoin, IncidentID: best.ID, Reason: "same user or device within the window"}
	}
	return Decision{Kind: DecisionJoin, IncidentID: best.ID, Reason: "detected before the incident was resolved; recorded without reopening"}
}

// takes reports whether the incident may take a new signal detected at at:
// an open one always, a resolved one only a signal detected no later than its
// resolution (new activity after a resolution is a new incident).
func takes(in Incident, at time.Time) bool {
	if in.IsOpen() {
		return true
	}
	return in.ResolvedAt != nil && !at.After(*in.ResolvedAt)
}

// preferred orders matching incidents: open before resolved, then the most
// recent activity, then the lowest id so the choice is deterministic.
func preferred(a, b Incident) bool {
	if a.IsOpen() != b.IsOpen() {
		return a.IsOpen()
	}
	_, la := span(a)
	_, lb := span(b)
	if !la.Equal(lb) {
		return la.After(lb)
	}
	return a.ID < b.ID
}

// sharesSubject reports whether two entity sets name a common user or device.
func sharesSubject(a, b Entities) bool {
	return intersects(a.Users, b.Users) || intersects(a.Devices, b.Devices)
}

func intersects(a, b []string) bool {
	for _, v := range a {
		if slices.Contains(b, v) {
			return true
		}
	}
	return false
}

// span returns the earliest and latest detection time of the incident's
// signals; an incident without recorded signals spans its detection time.
func span(in Incident) (first, last time.Time) {
	for _, s := range in.Signals {
		first = earliest(first, s.CreatedAt)
		if s.CreatedAt.After(last) {
			last = s.CreatedAt
		}
	}
	if first.IsZero() && in.DetectedAt != nil {
		first, last = *in.DetectedAt, *in.DetectedAt
	}
	return first, last
}

func withinWindow(in Incident, at time.Time, window time.Duration) bool {
	first, last := span(in)
	if first.IsZero() {
		return false
	}
	return !at.Before(first.Add(-window)) && !at.After(last.Add(window))
}

// signalTime is when the signal was detected, or failing that last updated,
// or failing that now.
func signalTime(s Signal, now time.Time) time.Time {
	if !s.CreatedAt.IsZero() {
		return s.CreatedAt
	}
	if !s.LastUpdateAt.IsZero() {
		return s.LastUpdateAt
	}
	return now
}

// NewIncident opens an incident from its first signal.
func NewIncident(s Signal, id string, now time.Time) Incident {
	in := Incident{
		ID: id, TenantID: s.TenantID, Status: StatusNew, CreatedAt: now,
		AlertIDs: []string{}, Actions: []Action{}, Timeline: []Entry{},
	}
	in.addEntry(Entry{At: now, Kind: EntryOpened, Message: "opened from " + s.Source + " " + s.ID})
	Apply(&in, s, now)
	return in
}

// Apply merges signal s into the incident and reports whether anything
// changed. It is idempotent (the same signal again changes nothing), ignores
// a view of the signal older than the one recorded, and never changes the
// incident's status: a resolved incident stays resolved. Severity is the
// highest seen, entities the union, first activity and detection the
// earliest; a change of status, classification or determination at the
// source adds one timeline entry.
func Apply(in *Incident, s Signal, now time.Time) bool {
	idx := in.signalIndex(s.ID)
	if idx < 0 {
		in.Signals = append(in.Signals, stateOf(s))
		if s.Source == SourceAlert && !slices.Contains(in.AlertIDs, s.ID) {
			in.AlertIDs = append(in.AlertIDs, s.ID)
		}
		in.addEntry(Entry{At: signalTime(s, now), Kind: EntryAlertAdded, Message: s.Source + " " + s.ID + " added: " + s.Title})
		merge(in, s)
		return true
	}
	old := in.Signals[idx]
	// Deliveries can arrive out of order (poll overlap, webhook and poll);
	// an older view must not undo a newer one.
	if s.LastUpdateAt.Before(old.LastUpdateAt) {
		return false
	}
	changed := !s.LastUpdateAt.Equal(old.LastUpdateAt)
	if msg := stateChange(old, s); msg != "" {
		in.addEntry(Entry{At: updateTime(s, now), Kind: EntryAlertUpdated, Message: s.Source + " " + s.ID + " updated at source: " + msg})
		changed = true
	}
	next := stateOf(s)
	next.CreatedAt = earliest(old.CreatedAt, s.CreatedAt)
	in.Signals[idx] = next
	return merge(in, s) || changed
}

func stateOf(s Signal) SignalState {
	return SignalState{Source: s.Source, ID: s.ID, Status: s.Status, Classification: s.Classification,
		Determination: s.Determination, CreatedAt: s.CreatedAt, LastUpdateAt: s.LastUpdateAt}
}

func updateTime(s Signal, now time.Time) time.Time {
	if s.LastUpdateAt.IsZero() {
		return now
	}
	return s.LastUpdateAt
}

// stateChange describes what changed between the recorded state and s, or
// returns "" when nothing did.
func stateChange(old SignalState, s Signal) string {
	fields := []struct{ name, from, to string }{
		{"status", old.Status, s.Status},
		{"classification", old.Classification, s.Classification},
		{"determination", old.Determination, s.Determination},
	}
	msg := ""
	for _, f := range fields {
		if f.from == f.to {
			continue
		}
		if msg != "" {
			msg += "; "
		}
		msg += f.name + " " + orNone(f.from) + " → " + orNone(f.to)
	}
	return msg
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// merge folds s's severity, category, entities and times into the incident
// and reports whether anything changed.
func merge(in *Incident, s Signal) bool {
	changed := false
	if severityRank[s.Severity] > severityRank[in.Severity] {
		in.Severity = s.Severity
		changed = true
	}
	if categoryRank[s.Category] > categoryRank[in.Category] {
		in.Category = s.Category
		changed = true
	}
	ents := normalized(Entities{
		Users:     append(slices.Clone(in.Entities.Users), s.Entities.Users...),
		Devices:   append(slices.Clone(in.Entities.Devices), s.Entities.Devices...),
		Mailboxes: append(slices.Clone(in.Entities.Mailboxes), s.Entities.Mailboxes...),
		URLs:      append(slices.Clone(in.Entities.URLs), s.Entities.URLs...),
	})
	if !sameEntities(ents, in.Entities) {
		in.Entities = ents
		changed = true
	}
	if t := in.ResponseTargets.Merge(s.Targets); !reflect.DeepEqual(t, in.ResponseTargets.Merge(ResponseTargets{})) {
		in.ResponseTargets = t
		changed = true
	}
	if p, ok := earlier(in.FirstActivityAt, s.FirstActivityAt); ok {
		in.FirstActivityAt = p
		changed = true
	}
	if p, ok := earlier(in.DetectedAt, s.CreatedAt); ok {
		in.DetectedAt = p
		changed = true
	}
	return changed
}

// earlier returns t as the new value when it is set and before cur.
func earlier(cur *time.Time, t time.Time) (*time.Time, bool) {
	if t.IsZero() || (cur != nil && !t.Before(*cur)) {
		return cur, false
	}
	return &t, true
}

func sameEntities(a, b Entities) bool {
	return slices.Equal(a.Users, b.Users) && slices.Equal(a.Devices, b.Devices) &&
		slices.Equal(a.Mailboxes, b.Mailboxes) && slices.Equal(a.URLs, b.URLs)
}

// severityRank orders alert severities (alerts_v2 enum; critical for
// signals that state it); a value not listed ranks below all of them.
var severityRank = map[string]int{
	"unknown":       1,
	"informational": 2,
	"low":           3,
	"medium":        4,
	"high":          5,
	"critical":      6,
}

// addEntry inserts e keeping the timeline ordered by time; entries at the
// same time keep the order they were added in.
func (i *Incident) addEntry(e Entry) {
	at := len(i.Timeline)
	for at > 0 && i.Timeline[at-1].At.After(e.At) {
		at--
	}
	i.Timeline = slices.Insert(i.Timeline, at, e)
}
