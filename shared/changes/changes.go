// Package changes holds the decisions about Graph change and lifecycle
// notifications, apart from the HTTP edge that receives them: the queue
// message schema, the duplicate-suppression key, and what a notification
// should cause (re-assess identity now, skip because posture is fresh, or
// nothing). Every function here is pure; time comes in as an argument.
package changes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kinds of queued notification.
const (
	KindChange    = "change"
	KindLifecycle = "lifecycle"
)

// Lifecycle events Graph sends (response-facts A).
const (
	EventReauthorizationRequired = "reauthorizationRequired"
	EventSubscriptionRemoved     = "subscriptionRemoved"
	EventMissed                  = "missed"
)

// Notification is the part of one Graph changeNotification item the
// product uses.
type Notification struct {
	SubscriptionID string
	ChangeType     string
	Resource       string
	TenantID       string
	LifecycleEvent string
	ResourceID     string
	ResourceETag   string
}

// Message is the queue message for one accepted notification item.
type Message struct {
	Kind           string    `json:"kind"` // change or lifecycle
	TenantID       string    `json:"tenantId"`
	SubscriptionID string    `json:"subscriptionId"`
	ChangeType     string    `json:"changeType,omitempty"`
	Resource       string    `json:"resource,omitempty"`
	ResourceID     string    `json:"resourceId,omitempty"`
	LifecycleEvent string    `json:"lifecycleEvent,omitempty"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

// NewMessage builds the queue message of an accepted item.
func NewMessage(kind string, n Notification, receivedAt time.Time) Message {
	return Message{Kind: kind, TenantID: strings.ToLower(n.TenantID), SubscriptionID: n.SubscriptionID, ChangeType: n.ChangeType,
		Resource: n.Resource, ResourceID: n.ResourceID, LifecycleEvent: n.LifecycleEvent, ReceivedAt: receivedAt}
}

// DedupeKey identifies a notification across Graph's redeliveries, which
// carry no stable id of their own: the same subscription, change, resource
// and resource version is the same notification.
func DedupeKey(kind string, n Notification) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|%s", kind, n.SubscriptionID, n.ChangeType, n.Resource, n.LifecycleEvent, n.ResourceID, n.ResourceETag)
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// Parse decodes a queued message. Unknown fields are tolerated: a newer
// producer may add some while an older consumer drains the queue during a
// deployment. A message that cannot be parsed will never be: the error is
// permanent.
func Parse(body []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("message body is not a change message: %w", err)
	}
	if m.Kind != KindChange && m.Kind != KindLifecycle {
		return m, errors.New("message kind must be change or lifecycle")
	}
	return m, nil
}

// Action is what a notification should cause.
type Action string

// Actions.
const (
	// Reassess: re-assess the tenant's identity posture now.
	Reassess Action = "reassess"
	// Fresh: a directory change, but identity posture is younger than the
	// debounce; the change will be in the next assessment anyway.
	Fresh Action = "fresh"
	// Reauthorize: the subscription needs reauthorizing.
	Reauthorize Action = "reauthorize"
	// Recreate: Graph removed the subscription; create it again.
	Recreate Action = "recreate"
	// Ignore: a resource posture does not track.
	Ignore Action = "ignore"
)

// Debounce is the minimum age of the identity snapshot before a directory
// change triggers a new identity assessment.
const Debounce = 15 * time.Minute

// Decide says what a message should cause, given when the tenant's latest
// identity snapshot was taken (zero: never) and the time now.
func Decide(m Message, lastIdentity, now time.Time) Action {
	if m.Kind == KindLifecycle {
		if a, ok := lifecycleActions[m.LifecycleEvent]; ok {
			return a
		}
		return Ignore
	}
	if m.Kind != KindChange || !IsDirectory(m.Resource) {
		return Ignore
	}
	if !lastIdentity.IsZero() && now.Sub(lastIdentity) < Debounce {
		return Fresh
	}
	return Reassess
}

// lifecycleActions maps each lifecycle event to its action. missed means
// changes were lost: reconcile now (delta and re-assessment), without the
// debounce.
var lifecycleActions = map[string]Action{
	EventReauthorizationRequired: Reauthorize,
	EventMissed:                  Reassess,
	EventSubscriptionRemoved:     Recreate,
}

// directoryRoots are the resource roots whose objects move identity
// posture, and memberSets the sub-resources of groups and roles that do.
var (
	directoryRoots = map[string]bool{"users": true, "groups": true, "directory": true, "directoryroles": true, "directoryobjects": true}
	memberSets     = map[string]bool{"members": true, "owners": true, "transitivemembers": true}
)

// IsDirectory reports whether a notification's resource is a directory
// object whose change can move identity posture: a user, group, directory
// role or object, or a group's or role's members or owners. Mail, calendar
// and other resources under a user are not, and segments are matched whole,
// so "usersettings" is not "users".
func IsDirectory(resource string) bool {
	segs := strings.Split(strings.ToLower(strings.Trim(resource, "/")), "/")
	root, _, _ := strings.Cut(segs[0], "(") // users('id') form
	if !directoryRoots[root] {
		return false
	}
	if len(segs) <= 2 {
		return true
	}
	return (root == "groups" || root == "directoryroles") && memberSets[segs[2]]
}
