// Package signals turns the tenant's security signals (Defender alerts,
// risky users, directory changes that matter) into stored, correlated,
// enriched incidents, and keeps the sources that feed them running: the
// alert poller's watermark, Graph change-notification subscriptions and
// the delta backstop behind them. Graph is reached through the Source
// interface (the handler adapts shared/collect and shared/graph to it);
// everything here is decisions and records.
package signals

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"m365security/shared/incident"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/store"
)

// Pipeline stores signals as incidents.
type Pipeline struct {
	Records *records.Records
	Now     func() time.Time
	// Window is the correlation window (incident.DefaultWindow when 0).
	Window time.Duration
	// OnChange, when set, is told of every incident a signal created or
	// changed (the response engine plans from it). Its error is returned,
	// so a queued delivery is retried; it must be idempotent.
	OnChange func(ctx context.Context, tenantID, incidentID string) error
	Log      *slog.Logger
}

// Outcomes of Ingest.
const (
	Created   = "created"
	Joined    = "joined"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// Outcome says what Ingest did with one signal.
type Outcome struct {
	IncidentID string `json:"incidentId"`
	Kind       string `json:"kind"`
}

// maxCandidates bounds the incidents one signal is correlated against.
const maxCandidates = records.MaxIncidentsRead

// Ingest stores one signal: into the incident that already holds it, into
// an open incident about the same user or device within the window, or as
// a new incident. A signal seen again (poll overlap, a rerun, a second
// instance) lands in the same incident: the first writer's claim on the
// signal id decides, and a new incident's id derives from the signal id so
// two creators collide instead of making two.
func (p *Pipeline) Ingest(ctx context.Context, tenantID string, s incident.Signal) (Outcome, error) {
	return p.ingest(ctx, tenantID, s, nil)
}

// Batch ingests many signals of one tenant (a poll's page set) reading the
// correlation candidates once instead of once per signal; it keeps them up
// to date with what it stores. Claims still decide duplicates, so a batch
// running beside another writer stays correct; at worst two concurrent
// batches open two incidents about one user that one writer would have
// joined.
type Batch struct {
	p        *Pipeline
	tenantID string
	cands    []incident.Incident
	loaded   bool
}

// NewBatch starts a batch for the tenant.
func (p *Pipeline) NewBatch(tenantID string) *Batch { return &Batch{p: p, tenantID: tenantID} }

// Ingest stores one signal of the batch.
func (b *Batch) Ingest(ctx context.Context, s incident.Signal) (Outcome, error) {
	return b.p.ingest(ctx, b.tenantID, s, b)
}

func (b *Batch) remember(in incident.Incident) {
	for i := range b.cands {
		if b.cands[i].ID == in.ID {
			b.cands[i] = in
			return
		}
	}
	b.cands = append(b.cands, in)
}

func (p *Pipeline) ingest(ctx context.Context, tenantID string, s incident.Signal, b *Batch) (Outcome, error) {
	if s.ID == "" {
		return Outcome{}, errors.New("signal has no id")
	}
	s.TenantID = tenantID
	now := p.Now().UTC()
	claim, ok, err := p.Records.Signals.Claim(ctx, tenantID, s.ID)
	if err != nil {
		return Outcome{}, err
	}
	target, kind := claim.IncidentID, Updated
	if !ok {
		d, err := p.decide(ctx, tenantID, s, now, b)
		if err != nil {
			return Outcome{}, err
		}
		target, kind = d.IncidentID, Joined
		if d.Kind == incident.DecisionNew {
			target, kind = IncidentID(tenantID, s.ID), Created
		} else if d.Kind == incident.DecisionDuplicate {
			kind = Updated
		}
		held, err := p.Records.Signals.ClaimFor(ctx, tenantID, s.ID, target, now)
		if err != nil {
			return Outcome{}, err
		}
		if held.IncidentID != target {
			target, kind = held.IncidentID, Updated
		}
	}
	stored, changed, created, err := p.apply(ctx, tenantID, target, s, now)
	if err != nil {
		return Outcome{}, err
	}
	if b != nil && b.loaded && (changed || created) {
		b.remember(stored)
	}
	if created {
		kind = Created
	} else if !changed {
		kind = Unchanged
	}
	if changed && p.OnChange != nil {
		if err := p.OnChange(ctx, tenantID, target); err != nil {
			return Outcome{IncidentID: target, Kind: kind}, fmt.Errorf("incident %s stored; response: %w", target, err)
		}
	}
	return Outcome{IncidentID: target, Kind: kind}, nil
}

// IncidentID is the id of the incident a signal opens: derived from the
// signal, so every creator of it agrees.
func IncidentID(tenantID, signalID string) string {
	h := sha256.Sum256([]byte(tenantID + "\x00" + signalID))
	return "inc-" + hex.EncodeToString(h[:10])
}

func (p *Pipeline) window() time.Duration {
	if p.Window > 0 {
		return p.Window
	}
	return incident.DefaultWindow
}

// decide correlates s against the open incidents and those created
// recently enough to hold a signal about the same subject. A batch reads
// them once, with resolved incidents from a window before its earliest
// possible signal (a poll reads recent updates), and keeps them.
func (p *Pipeline) decide(ctx context.Context, tenantID string, s incident.Signal, now time.Time, b *Batch) (incident.Decision, error) {
	if b != nil && b.loaded {
		return incident.Correlate(b.cands, s, now, p.window()), nil
	}
	open, err := p.Records.Incidents.List(ctx, tenantID, records.IncidentQuery{OpenOnly: true})
	if err != nil {
		return incident.Decision{}, err
	}
	// Resolved incidents take a signal detected before their resolution;
	// one created more than a window before the signal cannot share it.
	at := s.CreatedAt
	if at.IsZero() {
		at = now
	}
	if b != nil {
		at = now.Add(-InitialLookback)
	}
	recent, err := p.Records.Incidents.List(ctx, tenantID, records.IncidentQuery{From: at.Add(-2 * p.window()), Status: incident.StatusResolved})
	if err != nil {
		return incident.Decision{}, err
	}
	cands := append(open, recent...)
	if len(cands) > maxCandidates {
		cands = cands[len(cands)-maxCandidates:]
	}
	if b != nil {
		b.cands, b.loaded = cands, true
	}
	return incident.Correlate(cands, s, now, p.window()), nil
}

// apply merges s into the target incident, creating it (enriched) when it
// does not exist yet: the first signal, or a claim whose creator stopped
// before storing the incident. It returns the incident as stored.
func (p *Pipeline) apply(ctx context.Context, tenantID, id string, s incident.Signal, now time.Time) (in incident.Incident, changed, created bool, err error) {
	var newSubjects bool
	in, err = p.Records.Incidents.Update(ctx, tenantID, id, func(in *incident.Incident) error {
		before := len(in.Entities.Users) + len(in.Entities.Devices)
		changed = incident.Apply(in, s, now)
		newSubjects = len(in.Entities.Users)+len(in.Entities.Devices) > before
		if !changed {
			return store.ErrUnchanged
		}
		return nil
	})
	switch {
	case err == nil && newSubjects:
		in, err = p.enrich(ctx, in, now)
		return in, true, false, err
	case err == nil:
		return in, changed, false, nil
	case !errors.Is(err, records.ErrNotFound):
		return in, false, false, err
	}
	fresh := incident.NewIncident(s, id, now)
	if k, kerr := p.known(ctx, tenantID, fresh.Entities, now); kerr != nil {
		p.log().Warn("incident opened without posture enrichment", "tenant_id", tenantID, "incident_id", id, "error", kerr.Error())
		fresh.Timeline = append(fresh.Timeline, incident.Entry{At: now, Kind: EntryEnriched, Message: "posture could not be read: " + kerr.Error()})
	} else {
		fresh.Posture = Enrich(fresh.Entities, k)
		fresh.ResponseTargets = fresh.ResponseTargets.Merge(deviceTargets(fresh.Posture))
		fresh.Timeline = append(fresh.Timeline, incident.Entry{At: now, Kind: EntryEnriched, Message: enrichedMessage(fresh.Posture)})
	}
	if err := p.Records.Incidents.Create(ctx, fresh); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// Another instance created it meanwhile: merge into theirs.
			in, ch, _, err := p.apply(ctx, tenantID, id, s, now)
			return in, ch, false, err
		}
		return in, false, false, err
	}
	return fresh, true, true, nil
}

// deviceTargets are the Intune managed-device ids enrichment resolved:
// alert evidence names devices by Defender and Entra ids, and Intune's
// device actions take its own.
func deviceTargets(subjects []incident.SubjectPosture) incident.ResponseTargets {
	var t incident.ResponseTargets
	for _, s := range subjects {
		if s.Kind == "device" && s.Found && s.ObjectID != "" {
			t.ManagedDevices = append(t.ManagedDevices, s.ObjectID)
		}
	}
	return t
}

// EntryEnriched is the timeline kind of a posture enrichment.
const EntryEnriched = "enriched"

// enrich adds the posture of subjects that joined cur after it opened, read
// as of now, and returns the incident as stored.
func (p *Pipeline) enrich(ctx context.Context, cur incident.Incident, now time.Time) (incident.Incident, error) {
	k, err := p.known(ctx, cur.TenantID, cur.Entities, now)
	if err != nil {
		p.log().Warn("posture enrichment skipped", "tenant_id", cur.TenantID, "incident_id", cur.ID, "error", err.Error())
		return cur, nil
	}
	subjects := Enrich(cur.Entities, k)
	return p.Records.Incidents.Update(ctx, cur.TenantID, cur.ID, func(in *incident.Incident) error {
		have := map[string]bool{}
		for _, s := range in.Posture {
			have[s.Kind+":"+strings.ToLower(s.ID)] = true
			have[s.Kind+":"+strings.ToLower(s.ObjectID)] = true
		}
		var added []incident.SubjectPosture
		for _, s := range subjects {
			if !have[s.Kind+":"+strings.ToLower(s.ID)] && (s.ObjectID == "" || !have[s.Kind+":"+strings.ToLower(s.ObjectID)]) {
				added = append(added, s)
			}
		}
		if len(added) == 0 {
			return store.ErrUnchanged
		}
		in.Posture = append(in.Posture, added...)
		in.ResponseTargets = in.ResponseTargets.Merge(deviceTargets(added))
		in.Timeline = append(in.Timeline, incident.Entry{At: now, Kind: EntryEnriched, Message: enrichedMessage(added)})
		return nil
	})
}

func enrichedMessage(subjects []incident.SubjectPosture) string {
	var parts []string
	for _, s := range subjects {
		switch {
		case s.Kind == "user" && s.Found:
			parts = append(parts, fmt.Sprintf("%s: MFA registered %s, enforced %s", s.ID, s.MFARegistered, s.MFAEnforced))
		case s.Kind == "device" && s.Found:
			parts = append(parts, fmt.Sprintf("%s: %s, %s", s.ID, s.Compliance, s.Protection))
		default:
			parts = append(parts, s.ID+": posture unknown")
		}
	}
	if len(parts) == 0 {
		return "no users or devices to enrich"
	}
	return "posture added: " + strings.Join(parts, "; ")
}

// known reads the latest identity and devices snapshots at at, with the
// states of the entities' users.
func (p *Pipeline) known(ctx context.Context, tenantID string, e incident.Entities, at time.Time) (Known, error) {
	k := Known{At: at}
	var err error
	if len(e.Users) > 0 {
		if k.Identity, err = p.Records.Snapshots.Latest(ctx, tenantID, posture.AreaIdentity, at); err != nil {
			return k, fmt.Errorf("read identity snapshot: %w", err)
		}
		if k.Identity != nil {
			want := map[string]bool{}
			for _, u := range e.Users {
				want[strings.ToLower(u)] = true
			}
			if k.Users, err = p.Records.Snapshots.UserStates(ctx, *k.Identity, func(u posture.UserMFA) bool {
				return want[strings.ToLower(u.ID)] || want[strings.ToLower(u.UserPrincipalName)]
			}); err != nil {
				return k, fmt.Errorf("read user states: %w", err)
			}
		}
		if k.Exceptions, err = p.Records.Exceptions.Relevant(ctx, tenantID, at); err != nil {
			return k, fmt.Errorf("read exceptions: %w", err)
		}
	}
	if len(e.Devices) > 0 {
		if k.Devices, err = p.Records.Snapshots.Latest(ctx, tenantID, posture.AreaDevices, at); err != nil {
			return k, fmt.Errorf("read devices snapshot: %w", err)
		}
	}
	return k, nil
}

func (p *Pipeline) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
