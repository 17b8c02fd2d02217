package incident

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTargetsFromAlert(t *testing.T) {
	tests := []struct {
		name string
		a    AlertRecord
		want ResponseTargets
	}{
		{"an inbox rule in mailbox configuration evidence is a target of its user", AlertRecord{Evidence: []Evidence{
			{ODataType: ODataMailboxConfigurationEvidence, ConfigurationType: "userInboxRule", ConfigurationID: "R1", ExternalDirectoryObjectID: "U1", UPN: "u@x"},
			{ODataType: ODataMailboxConfigurationEvidence, ConfigurationType: "mailForwardingRule", ConfigurationID: "F1", UPN: "u@x"},
			{ODataType: ODataMailboxConfigurationEvidence, ConfigurationType: "userInboxRule", ConfigurationID: "R2", UPN: "V@x"},
			{ODataType: ODataMailboxConfigurationEvidence, ConfigurationType: "userInboxRule", ConfigurationID: "", UPN: "v@x"},
			{ODataType: ODataMailboxConfigurationEvidence, ConfigurationType: "userInboxRule", ConfigurationID: "R3"},
		}}, ResponseTargets{InboxRules: []InboxRuleRef{{UserID: "u1", RuleID: "R1"}, {UserID: "v@x", RuleID: "R2"}}}},
		{"a delivered message names its copy", AlertRecord{Evidence: []Evidence{
			{ODataType: ODataAnalyzedMessageEvidence, NetworkMessageID: "N1", RecipientEmailAddress: "A@x"},
			{ODataType: ODataAnalyzedMessageEvidence, NetworkMessageID: "N1", RecipientEmailAddress: "a@x"},
			{ODataType: ODataAnalyzedMessageEvidence, NetworkMessageID: "", RecipientEmailAddress: "b@x"},
			{ODataType: ODataAnalyzedMessageEvidence, NetworkMessageID: "N2"},
		}}, ResponseTargets{Messages: []MessageRef{{NetworkMessageID: "N1", Recipient: "a@x"}}}},
		{"the users of an alert about a click clicked", AlertRecord{Title: "A potentially malicious URL click was detected", Evidence: []Evidence{
			{ODataType: ODataUserEvidence, UserAccount: &UserAccount{AzureAdUserID: "U1", UserPrincipalName: "u@x"}},
			{ODataType: ODataUserEvidence, UserAccount: &UserAccount{UserPrincipalName: "w@x"}},
			{ODataType: ODataUserEvidence},
		}}, ResponseTargets{ClickedUsers: []string{"U1", "w@x"}}},
		{"users of other alerts clicked nothing", AlertRecord{Title: "Suspicious sign-in", Evidence: []Evidence{
			{ODataType: ODataUserEvidence, UserAccount: &UserAccount{AzureAdUserID: "U1"}},
		}}, ResponseTargets{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, TargetsFromAlert(tt.a)) })
	}
}

func TestResponseTargetsMerge(t *testing.T) {
	a := ResponseTargets{ClickedUsers: []string{"U1"}, ManagedDevices: []string{"d1"}}
	b := ResponseTargets{ClickedUsers: []string{"u1", "u2"}, ManagedDevices: []string{"D1", ""},
		InboxRules: []InboxRuleRef{{UserID: "u", RuleID: "r"}, {UserID: "u", RuleID: "r"}}}
	got := a.Merge(b)
	assert.Equal(t, []string{"U1", "u2"}, got.ClickedUsers)
	assert.Equal(t, []string{"d1"}, got.ManagedDevices)
	assert.Equal(t, []InboxRuleRef{{UserID: "u", RuleID: "r"}}, got.InboxRules)
	assert.Nil(t, got.Messages)
}

func TestActionLookups(t *testing.T) {
	in := Incident{Actions: []Action{{ID: "a", IdempotencyKey: "k1"}, {ID: "b", IdempotencyKey: "k2"}}}
	assert.Equal(t, 1, in.ActionByID("b"))
	assert.Equal(t, -1, in.ActionByID("c"))
	assert.Equal(t, 0, in.ActionByKey("k1"))
	assert.Equal(t, -1, in.ActionByKey("k3"))
}

func TestFirstExecutedAtCountsOnlyResponses(t *testing.T) {
	at := func(m int) *time.Time { v := time.Date(2026, 11, 30, 9, m, 0, 0, time.UTC); return &v }
	in := Incident{Actions: []Action{
		{Type: ActionUpdateAlert, Status: ActionExecuted, ExecutedAt: at(1)},
		{Type: ActionEnableAccount, Status: ActionExecuted, ExecutedAt: at(2)},
		{Type: ActionDisableAccount, Status: ActionFailed, ExecutedAt: at(3)},
		{Type: ActionRevokeSessions, Status: ActionExecuted, ExecutedAt: at(9)},
		{Type: ActionDisableAccount, Status: ActionExecuted, ExecutedAt: at(5)},
		{Type: ActionRemoteLock, Status: ActionExecuted},
	}}
	require.Equal(t, at(5), in.FirstExecutedAt())
	require.Nil(t, Incident{Actions: []Action{{Type: ActionUpdateAlert, Status: ActionExecuted, ExecutedAt: at(1)}}}.FirstExecutedAt())
}
