package incident

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func alertSignal(id, user string, created time.Time) Signal {
	return Signal{Source: SourceAlert, ID: id, TenantID: "t1", Category: CategoryAccountCompromise, Severity: "medium",
		Status: "new", Title: "Impossible travel", Entities: Entities{Users: []string{user}},
		FirstActivityAt: created.Add(-time.Hour), CreatedAt: created, LastUpdateAt: created}
}

func deviceSignal(id, device string, created time.Time) Signal {
	return Signal{Source: SourceAlert, ID: id, TenantID: "t1", Category: CategoryDevice, Severity: "low",
		Status: "new", Title: "Malware", Entities: Entities{Devices: []string{device}}, CreatedAt: created, LastUpdateAt: created}
}

func resolved(in Incident, at time.Time) Incident {
	in.Status = StatusResolved
	in.ResolvedAt = &at
	return in
}

func TestCorrelate(t *testing.T) {
	window := DefaultWindow
	now := t0.Add(48 * time.Hour)
	annInc := NewIncident(alertSignal("a1", "ann", t0), "inc-ann", t0)
	pcInc := NewIncident(deviceSignal("d1", "pc1", t0), "inc-pc", t0)
	otherTenant := annInc
	otherTenant.ID, otherTenant.TenantID = "inc-other", "t2"
	tests := []struct {
		name       string
		candidates []Incident
		s          Signal
		want       Decision
	}{
		{"the same alert again is a duplicate of its incident", []Incident{pcInc, annInc}, alertSignal("a1", "ann", t0),
			Decision{Kind: DecisionDuplicate, IncidentID: "inc-ann"}},
		{"an alert known only by alertIds is a duplicate", []Incident{{ID: "legacy", TenantID: "t1", AlertIDs: []string{"a9"}}}, alertSignal("a9", "ann", t0),
			Decision{Kind: DecisionDuplicate, IncidentID: "legacy"}},
		{"an alert already in a resolved incident is a duplicate, not new", []Incident{resolved(annInc, t0.Add(time.Hour))}, alertSignal("a1", "ann", t0.Add(5*time.Hour)),
			Decision{Kind: DecisionDuplicate, IncidentID: "inc-ann"}},
		{"a non-alert signal seen again is a duplicate", []Incident{{ID: "inc-r", TenantID: "t1", Signals: []SignalState{{Source: SourceRiskyUser, ID: "riskyUser:ann:x"}}}}, Signal{Source: SourceRiskyUser, ID: "riskyUser:ann:x", TenantID: "t1"},
			Decision{Kind: DecisionDuplicate, IncidentID: "inc-r"}},
		{"an alert id in another tenant's incident is not a duplicate", []Incident{otherTenant}, alertSignal("a1", "ann", t0),
			Decision{Kind: DecisionNew}},
		{"the same user exactly at the window joins", []Incident{annInc}, alertSignal("a2", "ann", t0.Add(window)),
			Decision{Kind: DecisionJoin, IncidentID: "inc-ann"}},
		{"the same user one nanosecond past the window is new", []Incident{annInc}, alertSignal("a2", "ann", t0.Add(window+time.Nanosecond)),
			Decision{Kind: DecisionNew}},
		{"the same user exactly the window before the first signal joins", []Incident{annInc}, alertSignal("a2", "ann", t0.Add(-window)),
			Decision{Kind: DecisionJoin, IncidentID: "inc-ann"}},
		{"the same user one nanosecond before that is new", []Incident{annInc}, alertSignal("a2", "ann", t0.Add(-window-time.Nanosecond)),
			Decision{Kind: DecisionNew}},
		{"a different user is new", []Incident{annInc}, alertSignal("a2", "bob", t0.Add(time.Hour)),
			Decision{Kind: DecisionNew}},
		{"the same user in another tenant is new", []Incident{otherTenant}, alertSignal("a2", "ann", t0.Add(time.Hour)),
			Decision{Kind: DecisionNew}},
		{"a signal on the same device joins", []Incident{annInc, pcInc}, deviceSignal("d2", "pc1", t0.Add(time.Hour)),
			Decision{Kind: DecisionJoin, IncidentID: "inc-pc"}},
		{"a signal with no user or device is new", []Incident{annInc}, Signal{ID: "u1", TenantID: "t1", CreatedAt: t0, Entities: Entities{URLs: []string{"https://x"}}},
			Decision{Kind: DecisionNew}},
		{"an old alert about a resolved incident's user is recorded there without reopening", []Incident{resolved(annInc, t0.Add(2*time.Hour))}, alertSignal("a2", "ann", t0.Add(2*time.Hour)),
			Decision{Kind: DecisionJoin, IncidentID: "inc-ann"}},
		{"a new alert after the resolution starts a new incident", []Incident{resolved(annInc, t0.Add(2*time.Hour))}, alertSignal("a2", "ann", t0.Add(2*time.Hour+time.Nanosecond)),
			Decision{Kind: DecisionNew}},
		{"a resolved incident without a resolution time takes nothing", []Incident{{ID: "r", TenantID: "t1", Status: StatusResolved, Entities: Entities{Users: []string{"ann"}}, DetectedAt: &t0}}, alertSignal("a2", "ann", t0),
			Decision{Kind: DecisionNew}},
		{"an open incident is preferred to a resolved one", []Incident{resolved(annInc, t0.Add(3*time.Hour)), func() Incident { i := NewIncident(alertSignal("a3", "ann", t0), "inc-z", t0); return i }()}, alertSignal("a2", "ann", t0.Add(time.Hour)),
			Decision{Kind: DecisionJoin, IncidentID: "inc-z"}},
		{"the incident with the latest activity is preferred", []Incident{annInc, NewIncident(alertSignal("a3", "ann", t0.Add(time.Hour)), "inc-later", t0)}, alertSignal("a2", "ann", t0.Add(2*time.Hour)),
			Decision{Kind: DecisionJoin, IncidentID: "inc-later"}},
		{"between equally recent incidents the lowest id is preferred", []Incident{NewIncident(alertSignal("a3", "ann", t0), "inc-b", t0), NewIncident(alertSignal("a4", "ann", t0), "inc-a", t0)}, alertSignal("a2", "ann", t0.Add(time.Hour)),
			Decision{Kind: DecisionJoin, IncidentID: "inc-a"}},
		{"an incident with no recorded signal spans its detection time", []Incident{{ID: "old", TenantID: "t1", Status: StatusNew, Entities: Entities{Users: []string{"ann"}}, DetectedAt: &t0}}, alertSignal("a2", "ann", t0.Add(window)),
			Decision{Kind: DecisionJoin, IncidentID: "old"}},
		{"an incident with no time at all takes nothing", []Incident{{ID: "old", TenantID: "t1", Status: StatusNew, Entities: Entities{Users: []string{"ann"}}}}, alertSignal("a2", "ann", t0),
			Decision{Kind: DecisionNew}},
		{"a signal without times is placed at now", []Incident{annInc}, Signal{ID: "a2", TenantID: "t1", Entities: Entities{Users: []string{"ann"}}},
			Decision{Kind: DecisionNew}},
		{"a signal with only a last update is placed there", []Incident{annInc}, Signal{ID: "a2", TenantID: "t1", Entities: Entities{Users: []string{"ann"}}, LastUpdateAt: t0.Add(time.Hour)},
			Decision{Kind: DecisionJoin, IncidentID: "inc-ann"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Correlate(tc.candidates, tc.s, now, window)
			require.Equal(t, tc.want.Kind, got.Kind)
			require.Equal(t, tc.want.IncidentID, got.IncidentID)
			require.NotEmpty(t, got.Reason)
		})
	}
}

func TestApply(t *testing.T) {
	now := t0.Add(10 * time.Minute)
	base := alertSignal("a1", "ann", t0)
	updated := func(f func(*Signal)) Signal { s := base; s.LastUpdateAt = t0.Add(time.Hour); f(&s); return s }
	tests := []struct {
		name        string
		signals     []Signal
		wantChanged []bool
		check       func(t *testing.T, in Incident)
	}{
		{"the same alert twice changes nothing the second time", []Signal{base}, []bool{false},
			func(t *testing.T, in Incident) {
				require.Len(t, in.Timeline, 2)
				require.Equal(t, []string{"a1"}, in.AlertIDs)
				require.Len(t, in.Signals, 1)
			}},
		{"an alert resolved and classified in Defender adds one timeline entry", []Signal{
			updated(func(s *Signal) {
				s.Status, s.Classification, s.Determination = "resolved", "truePositive", "compromisedUser"
			}),
			updated(func(s *Signal) {
				s.Status, s.Classification, s.Determination = "resolved", "truePositive", "compromisedUser"
			}),
		}, []bool{true, false},
			func(t *testing.T, in Incident) {
				require.Len(t, in.Timeline, 3)
				last := in.Timeline[2]
				require.Equal(t, EntryAlertUpdated, last.Kind)
				require.Equal(t, t0.Add(time.Hour), last.At)
				require.Equal(t, "alert a1 updated at source: status new → resolved; classification (none) → truePositive; determination (none) → compromisedUser", last.Message)
				require.Equal(t, StatusNew, in.Status, "our status is ours to change")
				require.Equal(t, "resolved", in.Signals[0].Status)
			}},
		{"an older view of the alert after a newer one changes nothing", []Signal{
			updated(func(s *Signal) { s.Status = "inProgress" }), base,
		}, []bool{true, false},
			func(t *testing.T, in Incident) {
				require.Equal(t, "inProgress", in.Signals[0].Status)
				require.Len(t, in.Timeline, 3)
			}},
		{"a newer update without a state change records the update only", []Signal{
			updated(func(s *Signal) {}),
		}, []bool{true},
			func(t *testing.T, in Incident) {
				require.Len(t, in.Timeline, 2)
				require.Equal(t, t0.Add(time.Hour), in.Signals[0].LastUpdateAt)
			}},
		{"evidence growing on the same alert is merged", []Signal{
			updated(func(s *Signal) {
				s.Entities = Entities{Users: []string{"ann", "ann@contoso.com"}, URLs: []string{"https://x"}}
			}),
		}, []bool{true},
			func(t *testing.T, in Incident) {
				require.Equal(t, Entities{Users: []string{"ann", "ann@contoso.com"}, URLs: []string{"https://x"}}, in.Entities)
			}},
		{"severity is the highest of the signals", []Signal{
			func() Signal { s := alertSignal("a2", "ann", t0.Add(time.Hour)); s.Severity = "high"; return s }(),
			func() Signal { s := alertSignal("a3", "ann", t0.Add(2*time.Hour)); s.Severity = "low"; return s }(),
		}, []bool{true, true},
			func(t *testing.T, in Incident) { require.Equal(t, "high", in.Severity) }},
		{"first activity and detection are the earliest, the timeline stays in time order", []Signal{
			func() Signal {
				s := alertSignal("a2", "ann", t0.Add(-3*time.Hour))
				s.Entities = Entities{Devices: []string{"pc1"}, Mailboxes: []string{"ann@contoso.com"}}
				return s
			}(),
			alertSignal("a3", "ann", t0.Add(time.Hour)),
		}, []bool{true, true},
			func(t *testing.T, in Incident) {
				require.Equal(t, t0.Add(-4*time.Hour), *in.FirstActivityAt)
				require.Equal(t, t0.Add(-3*time.Hour), *in.DetectedAt)
				require.Equal(t, Entities{Users: []string{"ann"}, Devices: []string{"pc1"}, Mailboxes: []string{"ann@contoso.com"}}, in.Entities)
				require.Equal(t, []string{"a1", "a2", "a3"}, in.AlertIDs)
				require.Equal(t, []string{EntryAlertAdded, EntryAlertAdded, EntryOpened, EntryAlertAdded},
					[]string{in.Timeline[0].Kind, in.Timeline[1].Kind, in.Timeline[2].Kind, in.Timeline[3].Kind})
				require.Equal(t, "alert a2 added: Impossible travel", in.Timeline[0].Message)
				requireOrdered(t, in.Timeline)
			}},
		{"a later signal's earlier times do not move first activity or detection back up", []Signal{
			alertSignal("a2", "ann", t0.Add(time.Hour)),
		}, []bool{true},
			func(t *testing.T, in Incident) {
				require.Equal(t, t0.Add(-time.Hour), *in.FirstActivityAt)
				require.Equal(t, t0, *in.DetectedAt)
			}},
		{"the more consequential category wins and other never overrides", []Signal{
			func() Signal { s := deviceSignal("d1", "pc1", t0); return s }(),
			func() Signal { s := deviceSignal("d2", "pc1", t0); s.Category = CategoryOther; return s }(),
		}, []bool{true, true},
			func(t *testing.T, in Incident) { require.Equal(t, CategoryAccountCompromise, in.Category) }},
		{"a risky user signal is recorded but is not an alert id", []Signal{
			func() Signal { s := alertSignal("riskyUser:ann:x", "ann", t0); s.Source = SourceRiskyUser; return s }(),
		}, []bool{true},
			func(t *testing.T, in Incident) {
				require.Equal(t, []string{"a1"}, in.AlertIDs)
				require.True(t, in.HasSignal("riskyUser:ann:x"))
			}},
		{"a signal joining a resolved incident leaves it resolved", []Signal{alertSignal("a2", "ann", t0)}, []bool{true},
			func(t *testing.T, in Incident) { require.Equal(t, StatusResolved, in.Status) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := NewIncident(base, "inc-1", now)
			if tc.name == "a signal joining a resolved incident leaves it resolved" {
				in = resolved(in, now)
			}
			for i, s := range tc.signals {
				require.Equal(t, tc.wantChanged[i], Apply(&in, s, now), "signal %d", i)
				before := cloneIncident(in)
				require.False(t, Apply(&in, s, now), "signal %d applied again changes nothing", i)
				require.Equal(t, before, in)
			}
			tc.check(t, in)
		})
	}
}

func TestNewIncident(t *testing.T) {
	s := alertSignal("a1", "ann", t0)
	in := NewIncident(s, "inc-1", t0.Add(time.Minute))
	require.Equal(t, Incident{
		ID: "inc-1", TenantID: "t1", Category: CategoryAccountCompromise, Severity: "medium", Status: StatusNew,
		AlertIDs: []string{"a1"}, Entities: Entities{Users: []string{"ann"}},
		FirstActivityAt: ptr(t0.Add(-time.Hour)), DetectedAt: ptr(t0), CreatedAt: t0.Add(time.Minute), Actions: []Action{},
		Timeline: []Entry{
			{At: t0, Kind: EntryAlertAdded, Message: "alert a1 added: Impossible travel"},
			{At: t0.Add(time.Minute), Kind: EntryOpened, Message: "opened from alert a1"},
		},
		Signals: []SignalState{{Source: SourceAlert, ID: "a1", Status: "new", CreatedAt: t0, LastUpdateAt: t0}},
	}, in)
}

func TestAddEntryKeepsTimeOrder(t *testing.T) {
	var in Incident
	for _, m := range []int{5, 1, 3, 3, 9, 0} {
		in.addEntry(Entry{At: t0.Add(time.Duration(m) * time.Minute), Message: string(rune('a' + len(in.Timeline)))})
	}
	requireOrdered(t, in.Timeline)
	require.Equal(t, "c", in.Timeline[2].Message, "equal times keep insertion order")
	require.Equal(t, "d", in.Timeline[3].Message)
}

func requireOrdered(t testing.TB, entries []Entry) {
	t.Helper()
	for i := 1; i < len(entries); i++ {
		require.False(t, entries[i].At.Before(entries[i-1].At), "entry %d before entry %d", i, i-1)
	}
}

func cloneIncident(in Incident) Incident {
	out := in
	out.AlertIDs = append([]string(nil), in.AlertIDs...)
	out.Timeline = append([]Entry(nil), in.Timeline...)
	out.Signals = append([]SignalState(nil), in.Signals...)
	return out
}

func ptr(t time.Time) *time.Time { return &t }

func TestUpdateTime(t *testing.T) {
	now := t0.Add(time.Hour)
	require.Equal(t, now, updateTime(Signal{}, now), "an update without a time is entered at now")
	require.Equal(t, t0, updateTime(Signal{LastUpdateAt: t0}, now), "an update is entered at its time")
}

func TestApplyWithoutTimesIsIdempotent(t *testing.T) {
	now := t0
	s := Signal{Source: SourceAlert, ID: "a1", TenantID: "t1", Status: "new"}
	in := NewIncident(s, "inc-1", now)
	s.Status = "resolved"
	require.True(t, Apply(&in, s, now))
	require.Equal(t, Entry{At: now, Kind: EntryAlertUpdated, Message: "alert a1 updated at source: status new → resolved"}, in.Timeline[len(in.Timeline)-1])
	require.False(t, Apply(&in, s, now))
	require.Nil(t, in.FirstActivityAt)
	require.Nil(t, in.DetectedAt)
}

func TestDefaultWindowIsADay(t *testing.T) {
	require.Equal(t, 24*time.Hour, DefaultWindow)
}
