package changes

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var now = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

func TestDecide(t *testing.T) {
	change := func(resource string) Message { return Message{Kind: KindChange, Resource: resource} }
	life := func(ev string) Message { return Message{Kind: KindLifecycle, LifecycleEvent: ev} }
	cases := []struct {
		name string
		m    Message
		last time.Time
		want Action
	}{
		{"a user change with no identity snapshot yet re-assesses", change("Users/abc"), time.Time{}, Reassess},
		{"a user change after a stale snapshot re-assesses", change("Users/abc"), now.Add(-Debounce), Reassess},
		{"a user change within the debounce is fresh", change("Users/abc"), now.Add(-Debounce + time.Second), Fresh},
		{"a group change re-assesses", change("groups/abc/members"), now.Add(-time.Hour), Reassess},
		{"a directory role change re-assesses", change("directoryRoles/abc"), now.Add(-time.Hour), Reassess},
		{"a users('id') resource is a directory change", change("users('abc')"), now.Add(-time.Hour), Reassess},
		{"a leading slash is a directory change", change("/users/abc"), now.Add(-time.Hour), Reassess},
		{"a mailbox message under a user is not tracked", change("users/abc/messages/1"), now.Add(-time.Hour), Ignore},
		{"a group's owners are a directory change", change("groups/g/owners"), now.Add(-time.Hour), Reassess},
		{"a resource that only starts with users is not a directory change", change("usersettings/x"), time.Time{}, Ignore},
		{"a drive item is not tracked", change("drives/x/root"), time.Time{}, Ignore},
		{"a directory role's members are a directory change", change("directoryRoles/r/members"), time.Time{}, Reassess},
		{"a directory object is a directory change", change("directoryObjects/o"), time.Time{}, Reassess},
		{"a group's other sub-resource is not tracked", change("groups/g/conversations"), time.Time{}, Ignore},
		{"a user's members-named sub-resource is not a group's", change("users/u/members"), time.Time{}, Ignore},
		{"a message of another kind is ignored", Message{Kind: "other", Resource: "users/u"}, time.Time{}, Ignore},
		{"missed re-assesses at once, ignoring the debounce", life(EventMissed), now, Reassess},
		{"subscription removed recreates the subscription", life(EventSubscriptionRemoved), now, Recreate},
		{"reauthorization required asks for reauthorization", life(EventReauthorizationRequired), time.Time{}, Reauthorize},
		{"an unknown lifecycle event is ignored", life("somethingNew"), time.Time{}, Ignore},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Decide(tc.m, tc.last, now))
		})
	}
}

func TestDedupeKey(t *testing.T) {
	base := Notification{SubscriptionID: "s1", ChangeType: "updated", Resource: "Users/u1", TenantID: "T", ResourceID: "u1", ResourceETag: "e1"}
	k := DedupeKey(KindChange, base)
	require.Len(t, k, 40)
	require.Equal(t, k, DedupeKey(KindChange, base), "a redelivery has the same key")
	other := base
	other.TenantID = "t2"
	require.Equal(t, k, DedupeKey(KindChange, other), "the tenant is implied by the subscription")
	for name, mod := range map[string]func(*Notification){
		"another subscription":     func(n *Notification) { n.SubscriptionID = "s2" },
		"another change type":      func(n *Notification) { n.ChangeType = "deleted" },
		"another resource":         func(n *Notification) { n.Resource = "Users/u2" },
		"another resource version": func(n *Notification) { n.ResourceETag = "e2" },
		"another resource id":      func(n *Notification) { n.ResourceID = "u2" },
		"a lifecycle event":        func(n *Notification) { n.LifecycleEvent = EventMissed },
	} {
		n := base
		mod(&n)
		require.NotEqual(t, k, DedupeKey(KindChange, n), name)
	}
	require.NotEqual(t, k, DedupeKey(KindLifecycle, base), "a lifecycle item is not a change item")
	require.NotEqual(t, DedupeKey(KindChange, Notification{ResourceID: "a|b"}), DedupeKey(KindChange, Notification{ResourceID: "a", ResourceETag: "b"}),
		"fields cannot run into each other")
}

func TestParseAndNewMessage(t *testing.T) {
	m := NewMessage(KindChange, Notification{TenantID: "ABC", SubscriptionID: "s", Resource: "Users/u", ResourceID: "u"}, now)
	require.Equal(t, "abc", m.TenantID, "tenant ids are compared lower-case")
	cases := []struct {
		name string
		body string
		ok   bool
	}{
		{"a change message parses", `{"kind":"change","tenantId":"t","resource":"Users/u"}`, true},
		{"unknown fields from a newer producer are tolerated", `{"kind":"lifecycle","tenantId":"t","future":1}`, true},
		{"a kind that is neither is refused", `{"kind":"other","tenantId":"t"}`, false},
		{"a missing kind is refused", `{"tenantId":"t"}`, false},
		{"malformed JSON is refused", `{"kind":`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body))
			require.Equal(t, tc.ok, err == nil, "%v", err)
		})
	}
}
