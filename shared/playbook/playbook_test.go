package playbook

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"m365security/shared/incident"
)

const (
	uid1 = "11111111-1111-4111-8111-111111111111"
	uid2 = "22222222-2222-4222-8222-222222222222"
)

func TestPlaybooksProposeEachCategorysActions(t *testing.T) {
	rules := incident.ResponseTargets{InboxRules: []incident.InboxRuleRef{{UserID: uid1, RuleID: "r1"}},
		Messages:       []incident.MessageRef{{NetworkMessageID: "m1", Recipient: "a@x.example"}},
		ClickedUsers:   []string{"b@x.example"},
		ManagedDevices: []string{"d1"}}
	tests := []struct {
		name string
		in   incident.Incident
		want []string // type:target[:user]
	}{
		{"an account compromise from a risky user is contained, confirmed and cleaned up",
			incident.Incident{ID: "i", Category: incident.CategoryAccountCompromise, AlertIDs: []string{"al1"},
				Entities: incident.Entities{Users: []string{uid1, "a@x.example"}}, ResponseTargets: rules,
				Signals: []incident.SignalState{{Source: incident.SourceRiskyUser, ID: "s"}}},
			[]string{"revokeSessions:" + uid1, "confirmCompromised:" + uid1, "disableAccount:" + uid1, "requirePasswordChange:" + uid1,
				"disableInboxRule:r1:" + uid1, "updateAlert:al1"}},
		{"an account compromise from alerts alone has no risk to confirm",
			incident.Incident{ID: "i", Category: incident.CategoryAccountCompromise, Entities: incident.Entities{Users: []string{uid1, uid2}},
				Signals: []incident.SignalState{{Source: incident.SourceAlert, ID: "s"}}},
			[]string{"revokeSessions:" + uid1, "revokeSessions:" + uid2, "disableAccount:" + uid1, "disableAccount:" + uid2,
				"requirePasswordChange:" + uid1, "requirePasswordChange:" + uid2}},
		{"phishing removes the message and signs out who clicked",
			incident.Incident{ID: "i", Category: incident.CategoryPhishing, AlertIDs: []string{"al1", "al2"}, ResponseTargets: rules},
			[]string{"remediateMessage:m1:a@x.example", "revokeSessions:b@x.example", "updateAlert:al1", "updateAlert:al2"}},
		{"a device incident scans, locks and retires the managed device",
			incident.Incident{ID: "i", Category: incident.CategoryDevice, ResponseTargets: rules},
			[]string{"defenderScan:d1", "remoteLock:d1", "retireDevice:d1"}},
		{"any other incident only updates its alerts",
			incident.Incident{ID: "i", Category: incident.CategoryOther, AlertIDs: []string{"al1"}, ResponseTargets: rules,
				Entities: incident.Entities{Users: []string{uid1}}},
			[]string{"updateAlert:al1"}},
		{"a device incident without an Intune id proposes no device action",
			incident.Incident{ID: "i", Category: incident.CategoryDevice, Entities: incident.Entities{Devices: []string{"laptop.contoso"}}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range Propose(Playbooks, tt.in) {
				s := p.Type + ":" + p.Target
				if p.TargetUser != "" {
					s += ":" + p.TargetUser
				}
				got = append(got, s)
				assert.NotEmpty(t, p.Playbook)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTheSameStepTwiceIsProposedOnce(t *testing.T) {
	table := []Playbook{{Name: "a", Steps: []Step{{Action: incident.ActionRevokeSessions, Target: TargetUser}}},
		{Name: "b", Steps: []Step{{Action: incident.ActionRevokeSessions, Target: TargetUser}}}}
	got := Propose(table, incident.Incident{ID: "i", Entities: incident.Entities{Users: []string{uid1}}})
	assert.Len(t, got, 1)
	assert.Equal(t, "a", got[0].Playbook)
}

func TestUsersPicksOneIdentifierPerPerson(t *testing.T) {
	tests := []struct {
		name     string
		entities []string
		want     []string
	}{
		{"object ids win over the UPNs of the same people", []string{"a@x.example", uid1, "B@x.example", uid2}, []string{uid1, uid2}},
		{"UPNs are used when no object id is known", []string{"A@x.example", "b@x.example"}, []string{"a@x.example", "b@x.example"}},
		{"anything else is no user", []string{"host.contoso", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, Users(tt.entities)) })
	}
}

func TestKeysAndIDsAreStablePerIncidentTypeAndTarget(t *testing.T) {
	p := Proposal{Type: incident.ActionDisableInboxRule, Target: "R1", TargetUser: "U@x"}
	assert.Equal(t, "i|disableInboxRule|r1|u@x", p.Key("i"))
	assert.Equal(t, "i|revokeSessions|u", Proposal{Type: incident.ActionRevokeSessions, Target: "U"}.Key("i"))
	assert.Equal(t, ActionID(p.Key("i")), ActionID(p.Key("i")))
	assert.NotEqual(t, ActionID(p.Key("i")), ActionID(p.Key("j")))
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{12}$`), ActionID("x"))
}
