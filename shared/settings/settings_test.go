package settings

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModes(t *testing.T) {
	cases := []struct {
		name   string
		tenant Tenant
		action string
		want   string
	}{
		{"co-managed: disabling an account waits for a person", Default(), "disableAccount", Approval},
		{"co-managed: a password change waits", Default(), "requirePasswordChange", Approval},
		{"co-managed: confirming compromise waits", Default(), "confirmCompromised", Approval},
		{"co-managed: deleting mail waits", Default(), "remediateMessage", Approval},
		{"co-managed: retiring a device waits", Default(), "retireDevice", Approval},
		{"co-managed: revoking sessions is automatic", Default(), "revokeSessions", Auto},
		{"co-managed: a Defender scan is automatic", Default(), "defenderScan", Auto},
		{"co-managed: an alert update is automatic", Default(), "updateAlert", Auto},
		{"fully-managed: disabling is automatic", Tenant{ResponsibilityModel: FullyManaged}, "disableAccount", Auto},
		{"fully-managed: a wipe still waits", Tenant{ResponsibilityModel: FullyManaged}, "wipeDevice", Approval},
		{"an override wins over the model", Tenant{ResponsibilityModel: FullyManaged, Actions: map[string]string{"disableAccount": Approval}}, "disableAccount", Approval},
		{"an override can make a destructive action automatic", Tenant{ResponsibilityModel: CoManaged, Actions: map[string]string{"retireDevice": Auto}}, "retireDevice", Auto},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.tenant.Mode(tc.action))
		})
	}
	assert.True(t, IsDestructive("disableAccount"))
	assert.False(t, IsDestructive("revokeSessions"))
}

func TestBrakeAndRecipients(t *testing.T) {
	assert.Equal(t, 5, Tenant{}.Brake(), "unset uses the default")
	assert.Equal(t, 2, Tenant{AutoActionsPerHour: 2}.Brake())
	d := Defaults{ReportRecipients: []string{"r@example.com"}, IncidentRecipients: []string{"i@example.com"}}
	assert.Equal(t, []string{"r@example.com"}, Tenant{}.Reports(d))
	assert.Equal(t, []string{"i@example.com"}, Tenant{}.Incidents(d))
	own := Tenant{ReportRecipients: []string{"a@example.com"}, IncidentRecipients: []string{"b@example.com"}}
	assert.Equal(t, []string{"a@example.com"}, own.Reports(d))
	assert.Equal(t, []string{"b@example.com"}, own.Incidents(d))
}

func TestValidate(t *testing.T) {
	known := []string{"disableAccount", "revokeSessions"}
	ok := Default()
	ok.ReportRecipients = []string{"a@example.com"}
	ok.Contacts.Customer = Contact{Name: "Ann", Email: "ann@example.com"}
	ok.NotifyWebhookURL = "https://example.com/hook"
	ok.Actions = map[string]string{"disableAccount": Auto}
	require.NoError(t, ok.Validate(known))

	long := make([]byte, 201)
	for i := range long {
		long[i] = 'x'
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = "a@example.com"
	}
	cases := []struct {
		name   string
		change func(*Tenant)
		want   string
	}{
		{"an unknown model", func(t *Tenant) { t.ResponsibilityModel = "self" }, "responsibilityModel"},
		{"an unknown action", func(t *Tenant) { t.Actions = map[string]string{"nuke": Auto} }, "not an action type"},
		{"an unknown mode", func(t *Tenant) { t.Actions = map[string]string{"disableAccount": "maybe"} }, "actions.disableAccount"},
		{"a negative brake", func(t *Tenant) { t.AutoActionsPerHour = -1 }, "autoActionsPerHour"},
		{"a brake over 1000", func(t *Tenant) { t.AutoActionsPerHour = 1001 }, "autoActionsPerHour"},
		{"a display-name recipient", func(t *Tenant) { t.IncidentRecipients = []string{"Ann <ann@example.com>"} }, "incidentRecipients"},
		{"too many recipients", func(t *Tenant) { t.ReportRecipients = many }, "more than 50"},
		{"an http webhook", func(t *Tenant) { t.NotifyWebhookURL = "http://example.com" }, "notifyWebhookUrl"},
		{"a contact name too long", func(t *Tenant) { t.Contacts.Provider.Name = string(long) }, "contacts.provider.name"},
		{"a contact email that is not one", func(t *Tenant) { t.Contacts.Customer.Email = "nope" }, "contacts.customer.email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := ok
			tc.change(&v)
			err := v.Validate(known)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	v := ok
	v.AutoActionsPerHour = 1000
	require.NoError(t, v.Validate(known), "1000 is the highest brake allowed")
	v.AutoActionsPerHour = 0
	require.NoError(t, v.Validate(known), "0 means the default")
}

func TestParseRecipients(t *testing.T) {
	got, err := ParseRecipients(" a@example.com, ,b@example.com ")
	require.NoError(t, err)
	assert.Equal(t, []string{"a@example.com", "b@example.com"}, got)
	got, err = ParseRecipients("")
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = ParseRecipients("a@example.com,nope")
	require.Error(t, err)
}

func TestValidateBoundaries(t *testing.T) {
	known := []string{"disableAccount"}
	at := func(change func(*Tenant)) error {
		v := Default()
		change(&v)
		return v.Validate(known)
	}
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	addrs := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "a@example.com"
		}
		return out
	}
	long := rep("a", 254-len("@example.com")) + "@example.com"
	hook := "https://example.com/" + rep("h", 2048-len("https://example.com/"))
	cases := []struct {
		name   string
		change func(*Tenant)
		ok     bool
	}{
		{"a 2048-character webhook URL is allowed", func(t *Tenant) { t.NotifyWebhookURL = hook }, true},
		{"a 2049-character webhook URL is refused", func(t *Tenant) { t.NotifyWebhookURL = hook + "h" }, false},
		{"a 200-character contact name is allowed", func(t *Tenant) { t.Contacts.Customer.Name = rep("n", 200) }, true},
		{"a 201-character contact name is refused", func(t *Tenant) { t.Contacts.Customer.Name = rep("n", 201) }, false},
		{"50 recipients are allowed", func(t *Tenant) { t.ReportRecipients = addrs(50) }, true},
		{"51 recipients are refused", func(t *Tenant) { t.ReportRecipients = addrs(51) }, false},
		{"a 254-character address is allowed", func(t *Tenant) { t.IncidentRecipients = []string{long} }, true},
		{"a 255-character address is refused", func(t *Tenant) { t.IncidentRecipients = []string{"a" + long} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := at(tc.change)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
	assert.Equal(t, rep("x", 60), clip(rep("x", 60)), "60 characters are shown whole")
	assert.Equal(t, rep("x", 60)+"…", clip(rep("x", 61)))
}
