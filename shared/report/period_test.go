package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/settings"
)

func TestParsePeriods(t *testing.T) {
	cases := []struct {
		name, kind, in, wantID string
		from, to               string
	}{
		{"a month parses to its days", "monthly", "2026-03", "2026-03", "2026-03-01", "2026-04-01"},
		{"December ends in the next year", "monthly", "2026-12", "2026-12", "2026-12-01", "2027-01-01"},
		{"a first quarter is January to March", "quarterly", "2026-Q1", "2026-Q1", "2026-01-01", "2026-04-01"},
		{"a fourth quarter ends in the next year", "quarterly", "2026-Q4", "2026-Q4", "2026-10-01", "2027-01-01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(Kind(tc.kind), tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.wantID, p.ID)
			require.Equal(t, tc.from, p.From.Format(time.DateOnly))
			require.Equal(t, tc.to, p.To.Format(time.DateOnly))
		})
	}
	bad := []struct{ name, kind, in, form string }{
		{"month 13 is refused", "monthly", "2026-13", MonthForm},
		{"month 0 is refused", "monthly", "2026-00", MonthForm},
		{"a day is refused", "monthly", "2026-03-01", MonthForm},
		{"a one-digit month is refused", "monthly", "2026-3", MonthForm},
		{"a year out of range is refused", "monthly", "1999-12", MonthForm},
		{"a year far ahead is refused", "monthly", "3000-01", MonthForm},
		{"quarter 5 is refused", "quarterly", "2026-Q5", QuarterForm},
		{"quarter 0 is refused", "quarterly", "2026-Q0", QuarterForm},
		{"a lower-case q is refused", "quarterly", "2026-q1", QuarterForm},
		{"a month given as quarter is refused", "quarterly", "2026-03", QuarterForm},
		{"a quarter year out of range is refused", "quarterly", "1999-Q1", QuarterForm},
		{"a quarter year far ahead is refused", "quarterly", "3000-Q1", QuarterForm},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(Kind(tc.kind), tc.in)
			require.ErrorIs(t, err, ErrBadPeriod)
			require.Contains(t, err.Error(), tc.form, "the error names the expected form")
		})
	}
}

func TestPeriodNavigation(t *testing.T) {
	m, _ := ParseMonth("2026-01")
	require.Equal(t, "2025-12", m.Previous().ID)
	require.Equal(t, "January 2026", m.Title())
	q, _ := ParseQuarter("2026-Q1")
	require.Equal(t, "2025-Q4", q.Previous().ID)
	require.Equal(t, "Q1 2026", q.Title())
	require.Len(t, m.Days(), 31)
	require.Equal(t, "2026-Q3", QuarterOf(time.Date(2026, 9, 30, 23, 0, 0, 0, time.UTC)).ID)
	require.Equal(t, "2026-Q4", Of(Quarterly, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)).ID)
	require.Equal(t, "2026-10", Of(Monthly, time.Date(2026, 10, 31, 23, 59, 0, 0, time.UTC)).ID)
}

func ids(ps []Period) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestDue(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	cases := []struct {
		name  string
		kind  Kind
		now   string
		since string
		want  []string
	}{
		{"on the 1st the previous month is due", Monthly, "2026-11-01T00:30:00Z", "2026-10-10T00:00:00Z", []string{"2026-10"}},
		{"a month is due all month long until sent", Monthly, "2026-11-29T10:00:00Z", "2026-10-10T00:00:00Z", []string{"2026-10"}},
		{"missed months since monitoring began are caught up", Monthly, "2026-11-02T00:00:00Z", "2026-08-15T00:00:00Z", []string{"2026-08", "2026-09", "2026-10"}},
		{"catch-up stops at MaxCatchUp", Monthly, "2026-11-02T00:00:00Z", "2025-01-01T00:00:00Z", []string{"2026-08", "2026-09", "2026-10"}},
		{"a month ended before monitoring began is not due", Monthly, "2026-11-02T00:00:00Z", "2026-10-01T00:00:00Z", []string{"2026-10"}},
		{"monitoring starting at a month's end does not make it due", Monthly, "2026-11-02T00:00:00Z", "2026-10-01T00:00:00Z", []string{"2026-10"}},
		{"the last month is due even with no monitoring at all", Monthly, "2026-11-02T00:00:00Z", "2026-11-02T00:00:00Z", []string{"2026-10"}},
		{"a quarter is due once it has ended", Quarterly, "2026-10-01T00:00:00Z", "2026-08-01T00:00:00Z", []string{"2026-Q3"}},
		{"the quarter before is due too while monitored then", Quarterly, "2026-10-05T00:00:00Z", "2026-05-01T00:00:00Z", []string{"2026-Q2", "2026-Q3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ids(Due(tc.kind, at(tc.now), at(tc.since))))
		})
	}
}

func TestAccountability(t *testing.T) {
	co := Accountability(settings.Tenant{ResponsibilityModel: settings.CoManaged,
		Contacts: settings.Contacts{Customer: settings.Contact{Name: "Ana"}, Provider: settings.Contact{Email: "soc@msp.example"}}})
	full := Accountability(settings.Tenant{ResponsibilityModel: settings.FullyManaged})
	require.Len(t, co, 5, "one row per control area")
	require.Equal(t, []string{"identity", "email", "devices", "data", "response"}, []string{co[0].Area, co[1].Area, co[2].Area, co[3].Area, co[4].Area})
	require.Equal(t, RoleCustomer, co[0].Configures.Role, "co-managed: the customer configures identity")
	require.Equal(t, "Ana", co[0].Configures.Contact)
	require.Equal(t, "soc@msp.example", co[0].Monitors.Contact)
	require.Equal(t, RoleBoth, co[0].Responds.Role)
	require.Equal(t, "Ana; soc@msp.example", co[0].Responds.Contact)
	require.Equal(t, RoleProvider, full[0].Configures.Role, "fully-managed: the provider configures identity")
	require.Equal(t, noContact, full[0].Configures.Contact)
	require.NotEqual(t, co, full)
	unknown := Accountability(settings.Tenant{ResponsibilityModel: "other"})
	require.Equal(t, RoleCustomer, unknown[0].Configures.Role, "an unknown model reads as co-managed")
	both := party(duty{role: RoleCustomer}, settings.Contacts{Customer: settings.Contact{Name: "Ana", Email: "ana@x.example"}})
	require.Equal(t, "Ana <ana@x.example>", both.Contact)
	require.Equal(t, RoleCustomer, ownerOf(co, "nothing").Role)
	require.Equal(t, co[4].Configures, ownerOf(co, "response"), "the owner is whoever configures that area")
	require.Equal(t, RoleProvider, ownerOf(co, "response").Role)
}
