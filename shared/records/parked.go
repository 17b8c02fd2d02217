package records

import (
	"context"
	"fmt"
	"time"

	"m365security/shared/store"
)

// ParkedMessage is a queue message that could not be processed: malformed,
// permanently failing, or dead-lettered after its deliveries ran out.
type ParkedMessage struct {
	Function      string    `json:"function"`
	MessageID     string    `json:"messageId"`
	DeliveryCount int       `json:"deliveryCount"`
	Reason        string    `json:"reason"`
	Body          string    `json:"body"`
	ParkedAt      time.Time `json:"parkedAt"`
}

// Parked keeps parked messages under SystemTenant, by the time they were
// parked.
type Parked struct{ s store.Store }

// Park stores m under a fresh id.
func (r Parked) Park(ctx context.Context, m ParkedMessage) error {
	d, err := store.Encode(store.Doc{Kind: store.KindParked, TenantID: SystemTenant, ID: NewID() + NewID(), Time: m.ParkedAt,
		Attrs: map[string]string{attrFunction: safeAttr(m.Function)}}, m)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Create); err != nil {
		return fmt.Errorf("park message %s: %w", m.MessageID, err)
	}
	return nil
}

// Range lists messages parked in [from, to), oldest first.
func (r Parked) Range(ctx context.Context, from, to time.Time) ([]ParkedMessage, error) {
	return store.DecodeAll[ParkedMessage](ctx, r.s, store.Query{Kind: store.KindParked, TenantID: SystemTenant, From: from, To: to, Limit: store.MaxPageSize})
}
