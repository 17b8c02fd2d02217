package records

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"m365security/shared/store"
)

// NoticeLog is the send log of one incident's notices: per event and
// channel, whether it was sent, is being sent, failed or was skipped. One
// document per incident, so telling people about an incident reads and
// writes it once however many events it has.
type NoticeLog struct {
	TenantID   string `json:"tenantId"`
	IncidentID string `json:"incidentId"`
	// Entries are keyed by event key and channel.
	Entries map[string]NoticeEntry `json:"entries"`
}

// NoticeEntry is one event's delivery on one channel.
type NoticeEntry struct {
	Event      string    `json:"event"`
	Channel    string    `json:"channel"`
	Status     string    `json:"status"`
	Recipients []string  `json:"recipients,omitempty"`
	Attempts   int       `json:"attempts"`
	LastTry    time.Time `json:"lastTry"`
	SentAt     time.Time `json:"sentAt,omitzero"`
	// Result is Graph's (or the webhook's) answer, or the error.
	Result string `json:"result,omitempty"`
}

// Notices stores the incident notice send logs with the tenant's state.
type Notices struct{ s store.Store }

// noticeID keeps any incident id within the store's id rules.
func noticeID(incidentID string) string {
	sum := sha256.Sum256([]byte(incidentID))
	return "incidentNotices-" + hex.EncodeToString(sum[:12])
}

// Get returns the incident's send log; ok is false before any notice.
func (r Notices) Get(ctx context.Context, tenantID, incidentID string) (NoticeLog, bool, error) {
	v, _, err := store.GetJSON[NoticeLog](ctx, r.s, store.KindState, tenantID, noticeID(incidentID))
	ok, err := found(err)
	return v, ok, err
}

// Update changes the incident's send log with ETag concurrency, so two
// notifiers racing on one incident see each other's claims. change may run
// more than once.
func (r Notices) Update(ctx context.Context, tenantID, incidentID string, change func(*NoticeLog) error) (NoticeLog, error) {
	return store.Update(ctx, r.s, store.KindState, tenantID, noticeID(incidentID), func(v *NoticeLog, d *store.Doc, exists bool) error {
		if !exists || v.Entries == nil {
			*v = NoticeLog{TenantID: tenantID, IncidentID: incidentID, Entries: map[string]NoticeEntry{}}
		}
		if err := change(v); err != nil {
			return err
		}
		var last time.Time
		for _, e := range v.Entries {
			if e.LastTry.After(last) {
				last = e.LastTry
			}
		}
		d.Time = last
		return nil
	})
}
