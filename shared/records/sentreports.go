package records

import (
	"context"
	"fmt"
	"time"

	"m365security/shared/store"
)

// SentReport is one entry of the report sent log: a report kind and period
// for a tenant, and the outcome of mailing it.
type SentReport struct {
	TenantID   string    `json:"tenantId"`
	Kind       string    `json:"kind"`   // monthly or quarterly
	Period     string    `json:"period"` // 2026-03 or 2026-Q1
	Recipients []string  `json:"recipients"`
	SentAt     time.Time `json:"sentAt,omitempty"`
	// Status is sent or failed; Result carries Graph's answer or the error.
	Status   string    `json:"status"`
	Result   string    `json:"result,omitempty"`
	Attempts int       `json:"attempts"`
	LastTry  time.Time `json:"lastTry"`
}

// SentReports is the sent log, one document per tenant, kind and period,
// so a rerun finds what was already sent.
type SentReports struct{ s store.Store }

func sentReportID(kind, period string) string { return kind + "-" + period }

// Get returns the log entry of a kind and period; ok is false when the
// period was never tried.
func (r SentReports) Get(ctx context.Context, tenantID, kind, period string) (SentReport, bool, error) {
	v, _, err := store.GetJSON[SentReport](ctx, r.s, store.KindSentReport, tenantID, sentReportID(kind, period))
	ok, err := found(err)
	return v, ok, err
}

// Update changes (or creates) the entry of a kind and period with ETag
// concurrency: two mailers racing on one period see each other's claim.
func (r SentReports) Update(ctx context.Context, tenantID, kind, period string, change func(*SentReport, bool) error) (SentReport, error) {
	return store.Update(ctx, r.s, store.KindSentReport, tenantID, sentReportID(kind, period), func(v *SentReport, d *store.Doc, exists bool) error {
		if !exists {
			*v = SentReport{TenantID: tenantID, Kind: kind, Period: period}
		}
		if err := change(v, exists); err != nil {
			return err
		}
		d.Time = v.LastTry
		d.Attrs = map[string]string{attrKind: safeAttr(kind), attrStatus: safeAttr(v.Status)}
		return nil
	})
}

// Range lists entries last tried in [from, to), oldest first.
func (r SentReports) Range(ctx context.Context, tenantID string, from, to time.Time) ([]SentReport, error) {
	list, err := store.DecodeAll[SentReport](ctx, r.s, store.Query{Kind: store.KindSentReport, TenantID: tenantID, From: from, To: to, Limit: store.MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("read sent reports: %w", err)
	}
	return list, nil
}
