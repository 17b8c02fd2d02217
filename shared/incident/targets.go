package incident

import (
	"slices"
	"strings"
)

// ResponseTargets are what response actions act on beyond an incident's
// entities: inbox rules and delivered messages named in alert evidence,
// the users who clicked a phishing link, and Intune managed-device ids
// (alert evidence names devices by Defender and Entra ids, which Intune's
// device actions do not take).
type ResponseTargets struct {
	InboxRules     []InboxRuleRef `json:"inboxRules,omitempty"`
	Messages       []MessageRef   `json:"messages,omitempty"`
	ClickedUsers   []string       `json:"clickedUsers,omitempty"`
	ManagedDevices []string       `json:"managedDevices,omitempty"`
}

// InboxRuleRef names one inbox rule of one mailbox.
type InboxRuleRef struct {
	UserID string `json:"userId"`
	RuleID string `json:"ruleId"`
}

// MessageRef names one delivered copy of a message.
type MessageRef struct {
	NetworkMessageID string `json:"networkMessageId"`
	Recipient        string `json:"recipient"`
}

// inboxRuleType is mailboxConfigurationEvidence's configurationType for an
// inbox rule.
const inboxRuleType = "userInboxRule"

// TargetsFromAlert reads the response targets an alert's evidence names:
// inbox rules (mailboxConfigurationEvidence of type userInboxRule), messages
// (analyzedMessageEvidence), and, for an alert about a click, its users.
func TargetsFromAlert(a AlertRecord) ResponseTargets {
	var t ResponseTargets
	for _, e := range a.Evidence {
		switch e.ODataType {
		case ODataMailboxConfigurationEvidence:
			user := firstOf(e.ExternalDirectoryObjectID, e.UPN, e.MailboxPrimaryAddress)
			if strings.EqualFold(e.ConfigurationType, inboxRuleType) && e.ConfigurationID != "" && user != "" {
				t.InboxRules = append(t.InboxRules, InboxRuleRef{UserID: strings.ToLower(user), RuleID: e.ConfigurationID})
			}
		case ODataAnalyzedMessageEvidence:
			if e.NetworkMessageID != "" && e.RecipientEmailAddress != "" {
				t.Messages = append(t.Messages, MessageRef{NetworkMessageID: e.NetworkMessageID, Recipient: strings.ToLower(e.RecipientEmailAddress)})
			}
		}
	}
	if strings.Contains(strings.ToLower(a.Title), "click") {
		for _, e := range a.Evidence {
			if e.ODataType == ODataUserEvidence && e.UserAccount != nil {
				t.ClickedUsers = append(t.ClickedUsers, firstOf(e.UserAccount.AzureAdUserID, e.UserAccount.UserPrincipalName))
			}
		}
	}
	return t.Merge(ResponseTargets{})
}

// Merge returns t with o's targets added, each once, in a stable order.
func (t ResponseTargets) Merge(o ResponseTargets) ResponseTargets {
	return ResponseTargets{
		InboxRules:     mergeBy(t.InboxRules, o.InboxRules, func(r InboxRuleRef) string { return r.UserID + "/" + r.RuleID }),
		Messages:       mergeBy(t.Messages, o.Messages, func(m MessageRef) string { return m.NetworkMessageID + "/" + m.Recipient }),
		ClickedUsers:   mergeBy(t.ClickedUsers, o.ClickedUsers, strings.ToLower),
		ManagedDevices: mergeBy(t.ManagedDevices, o.ManagedDevices, strings.ToLower),
	}
}

func mergeBy[T any](a, b []T, key func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for _, v := range slices.Concat(a, b) {
		k := key(v)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, v)
	}
	return out
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
