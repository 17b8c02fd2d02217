package posture

import "time"

// Area is a collection area; each run stores one snapshot per tenant and area.
type Area string

// The collection areas.
const (
	AreaIdentity    Area = "identity"
	AreaDevices     Area = "devices"
	AreaSecureScore Area = "secureScore"
	AreaBackup      Area = "backup"
	AreaEmail       Area = "email"
)

// Areas lists every area in display order.
var Areas = []Area{AreaIdentity, AreaDevices, AreaSecureScore, AreaBackup, AreaEmail}

// SourceStatus classifies the outcome of reading one Graph source.
type SourceStatus string

// Source outcomes. Anything but SourceOK makes the data that depends on the
// source unknown; it never reads as empty.
const (
	SourceOK          SourceStatus = "ok"
	SourceForbidden   SourceStatus = "forbidden"   // missing Graph permission or role
	SourceNotLicensed SourceStatus = "notLicensed" // tenant lacks the licence (P1/P2, Intune, Backup)
	SourceThrottled   SourceStatus = "throttled"   // 429/503 still failing after retries
	SourceFailed      SourceStatus = "failed"      // anything else
	SourceSkipped     SourceStatus = "skipped"     // not attempted because a prerequisite failed
)

// Source is the collection health of one Graph source in one run.
type Source struct {
	// Name is the stable source name used by metric and control
	// requirements, e.g. "users", "conditionalAccessPolicies".
	Name     string       `json:"name"`
	Path     string       `json:"path"`
	Status   SourceStatus `json:"status"`
	Reason   string       `json:"reason,omitempty"`
	Items    int          `json:"items"`
	Requests int          `json:"requests"`
	Duration Millis       `json:"durationMs"`
}

// OK reports whether the source was read completely.
func (s Source) OK() bool { return s.Status == SourceOK }

// Millis is a duration serialised as whole milliseconds.
type Millis int64

// MillisOf converts a duration.
func MillisOf(d time.Duration) Millis { return Millis(d.Milliseconds()) }

// Sources is the health of every source read in a run.
type Sources []Source

// Get returns the named source; ok is false when it was never attempted.
func (ss Sources) Get(name string) (Source, bool) {
	for _, s := range ss {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// Missing returns, for the named sources that were not read completely, a
// reason per source ("userRegistrationDetails: forbidden: ..."); empty when
// all are OK.
func (ss Sources) Missing(names ...string) []string {
	var out []string
	for _, n := range names {
		s, ok := ss.Get(n)
		switch {
		case !ok:
			out = append(out, n+": not collected")
		case !s.OK():
			r := n + ": " + string(s.Status)
			if s.Reason != "" {
				r += ": " + s.Reason
			}
			out = append(out, r)
		}
	}
	return out
}
