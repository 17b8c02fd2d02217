package records

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"m365security/shared/incident"
	"m365security/shared/store"
)

// Incidents stores incidents on the time axis of their creation, with their
// status and openness as query attributes.
type Incidents struct{ s store.Store }

// MaxIncidentsRead bounds one list: a tenant in a storm is paged, never
// loaded whole.
const MaxIncidentsRead = 5000

func incidentDoc(in incident.Incident) store.Doc {
	return store.Doc{Kind: store.KindIncident, TenantID: in.TenantID, ID: in.ID, Time: in.CreatedAt,
		Attrs: map[string]string{attrStatus: safeAttr(in.Status), attrOpen: strconv.FormatBool(in.IsOpen())}}
}

// Create stores a new incident; store.ErrConflict if the id is taken.
func (r Incidents) Create(ctx context.Context, in incident.Incident) error {
	d, err := store.Encode(incidentDoc(in), in)
	if err != nil {
		return err
	}
	if _, err := store.Write(ctx, r.s, d, store.Create); err != nil {
		return fmt.Errorf("store incident %s: %w", in.ID, err)
	}
	return nil
}

// Get returns one incident or ErrNotFound.
func (r Incidents) Get(ctx context.Context, tenantID, id string) (incident.Incident, error) {
	in, _, err := store.GetJSON[incident.Incident](ctx, r.s, store.KindIncident, tenantID, id)
	if err != nil {
		return in, fmt.Errorf("read incident %s: %w", id, err)
	}
	return in, nil
}

// errNoIncident ends an Update whose incident does not exist.
var errNoIncident = errors.New("no such incident")

// Update applies change to the stored incident with ETag concurrency
// (store.Update): change may run more than once and must only depend on its
// argument. It returns ErrNotFound for a missing incident.
func (r Incidents) Update(ctx context.Context, tenantID, id string, change func(*incident.Incident) error) (incident.Incident, error) {
	in, err := store.Update(ctx, r.s, store.KindIncident, tenantID, id, func(v *incident.Incident, d *store.Doc, exists bool) error {
		if !exists {
			return errNoIncident
		}
		if err := change(v); err != nil {
			return err
		}
		nd := incidentDoc(*v)
		d.Time, d.Attrs = nd.Time, nd.Attrs
		return nil
	})
	if errors.Is(err, errNoIncident) {
		return in, fmt.Errorf("update incident %s: %w", id, ErrNotFound)
	}
	return in, err
}

// IncidentQuery selects incidents: created in [From, To) (zero: open
// ends), with Status when set, open ones only when OpenOnly.
type IncidentQuery struct {
	From, To time.Time
	Status   string
	OpenOnly bool
}

// List returns the matching incidents, oldest first.
func (r Incidents) List(ctx context.Context, tenantID string, q IncidentQuery) ([]incident.Incident, error) {
	sq := store.Query{Kind: store.KindIncident, TenantID: tenantID, From: q.From, To: q.To, Limit: store.MaxPageSize, Attrs: map[string]string{}}
	if q.Status != "" {
		sq.Attrs[attrStatus] = safeAttr(q.Status)
	}
	if q.OpenOnly {
		sq.Attrs[attrOpen] = "true"
	}
	out, err := readBounded[incident.Incident](ctx, r.s, sq, MaxIncidentsRead, "incidents match; narrow the range")
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	return out, nil
}

// ForMetrics returns what the incident metrics and controls read at at:
// every open incident, and every incident created in the window before at.
func (r Incidents) ForMetrics(ctx context.Context, tenantID string, at time.Time, window time.Duration) ([]incident.Incident, error) {
	open, err := r.List(ctx, tenantID, IncidentQuery{To: at.Add(time.Nanosecond), OpenOnly: true})
	if err != nil {
		return nil, err
	}
	recent, err := r.List(ctx, tenantID, IncidentQuery{From: at.Add(-window), To: at.Add(time.Nanosecond)})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []incident.Incident
	for _, in := range append(open, recent...) {
		if !seen[in.ID] {
			seen[in.ID] = true
			out = append(out, in)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}
