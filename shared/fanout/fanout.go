// Package fanout splits a timer's job into one work item per tenant, sent
// through the queue, so Functions scales the work out across instances and
// one tenant's failure or slowness never delays another. A work item names
// the job, the tenant and the period the timer fired for; that triple is
// its duplicate-detection key, so a timer fired twice in a period queues
// each tenant's work once. It is pure: the queue is the caller's.
package fanout

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"m365security/shared/posture"
	"m365security/shared/queue"
)

// Queue is the queue work items travel on; RunTenantWork is triggered from
// it (functions/RunTenantWork/function.json, infra).
const Queue = "tenantwork"

// Work is one tenant's share of a job.
type Work struct {
	Job      string `json:"job"`
	TenantID string `json:"tenantId"`
	// Period is the slot the timer fired for, e.g. 2026120110 for the hour.
	Period  string    `json:"period"`
	FiredAt time.Time `json:"firedAt"`
}

// CollectJob is the job that collects one posture area.
func CollectJob(area posture.Area) string { return "collect:" + string(area) }

// Period names the slot of t at the given granularity: an hour for
// collections (one snapshot per hour), coarser for daily jobs, finer (to
// the minute) for jobs that run more often than hourly, like the poller.
func Period(t time.Time, every time.Duration) string {
	t = t.UTC().Truncate(every)
	switch {
	case every >= 24*time.Hour:
		return t.Format("20060102")
	case every < time.Hour:
		return t.Format("200601021504")
	}
	return t.Format("2006010215")
}

// Key is the work item's duplicate-detection key.
func (w Work) Key() string { return w.Job + "|" + w.TenantID + "|" + w.Period }

// Split makes one queue message per tenant for job, fired at firedAt.
func Split(job string, tenants []string, firedAt time.Time, every time.Duration) ([]queue.Message, error) {
	period := Period(firedAt, every)
	out := make([]queue.Message, 0, len(tenants))
	for _, t := range tenants {
		w := Work{Job: job, TenantID: strings.ToLower(t), Period: period, FiredAt: firedAt.UTC()}
		b, err := json.Marshal(w)
		if err != nil {
			return nil, fmt.Errorf("encode work item: %w", err)
		}
		out = append(out, queue.Message{ID: w.Key(), Body: b, ContentType: "application/json", Subject: job})
	}
	return out, nil
}

// Parse decodes a work item; an item that does not parse never will, so
// the error is permanent (the message is parked with it).
func Parse(body []byte) (Work, error) {
	var w Work
	if err := json.Unmarshal(body, &w); err != nil {
		return w, fmt.Errorf("message body is not a work item: %w", err)
	}
	switch {
	case w.Job == "":
		return w, errors.New("work item names no job")
	case w.TenantID == "":
		return w, errors.New("work item names no tenant")
	}
	return w, nil
}
