package graphsim

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is an error response the simulator can be told to return instead of
// serving a request. Code and Message go into Graph's error body.
// RetryAfter is the Retry-After header in seconds; negative means no header.
type Fault struct {
	Status     int
	Code       string
	Message    string
	RetryAfter int
}

// TooManyRequests is Graph's throttling answer: 429 with Retry-After.
func TooManyRequests(retryAfter int) Fault {
	return Fault{Status: 429, Code: "TooManyRequests", Message: "Please retry again later.", RetryAfter: retryAfter}
}

// ServiceUnavailable is a 503 with Retry-After, as Graph sends when a backing
// service is overloaded.
func ServiceUnavailable(retryAfter int) Fault {
	return Fault{Status: 503, Code: "serviceNotAvailable", Message: "The service is temporarily unavailable. Try the request again after a delay.", RetryAfter: retryAfter}
}

// InsufficientPrivileges is the 403 Graph returns when the app lacks the
// permission for a directory resource.
func InsufficientPrivileges() Fault {
	return Fault{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation.", RetryAfter: -1}
}

// NotLicensedPremium is the 403 Graph returns for Entra ID P1 features
// (signInActivity, authentication-method registration reports) in a tenant
// without a P1/P2 licence.
func NotLicensedPremium() Fault {
	return Fault{Status: 403, Code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant", Message: "Neither tenant is B2C or tenant doesn't have premium license", RetryAfter: -1}
}

// NotLicensedP2 is the 403 Identity Protection returns (riskyUsers,
// riskDetections) in a tenant without Entra ID P2.
func NotLicensedP2() Fault {
	return Fault{Status: 403, Code: "Forbidden", Message: "Your tenant is not licensed for this feature.", RetryAfter: -1}
}

func badRequest(code, msg string) *Fault {
	return &Fault{Status: 400, Code: code, Message: msg, RetryAfter: -1}
}

func notFound(code, msg string) *Fault {
	return &Fault{Status: 404, Code: code, Message: msg, RetryAfter: -1}
}

// Throttle injects faults (429 by default) into a share of the requests that
// reach a resource: plain requests and each $batch item, not the $batch
// envelope. EveryN > 0 faults every Nth such request; Probability > 0 faults
// each with that probability, drawn from an RNG seeded by Options.Seed.
type Throttle struct {
	EveryN      int
	Probability float64
	// Fault is returned; zero means TooManyRequests(RetryAfter).
	Fault      Fault
	RetryAfter int
}

func (t Throttle) fault() Fault {
	if t.Fault.Status != 0 {
		return t.Fault
	}
	return TooManyRequests(t.RetryAfter)
}

// Licensing switches off licence-gated features. The zero value is a fully
// licensed tenant (Entra ID P2, Intune, Defender).
type Licensing struct {
	// WithoutP1: $select=signInActivity on users and
	// /reports/authenticationMethods/* answer NotLicensedPremium; implies WithoutP2.
	WithoutP1 bool
	// WithoutP2: /identityProtection/* answers NotLicensedP2.
	WithoutP2 bool
	// WithoutMDOP2: analyzedEmails/remediate (Defender for Office 365
	// Plan 2) answers 403 naming the licence.
	WithoutMDOP2 bool
}

// Options configures a Server. The zero value is a healthy, fully licensed
// Graph with no latency.
type Options struct {
	// Latency is added to every HTTP round trip (a $batch counts once).
	Latency time.Duration
	// Throttle is the initial throttling rule; see SetThrottle.
	Throttle Throttle
	// Licensing is the initial licence state; see SetLicensing.
	Licensing Licensing
	// Seed seeds the throttling RNG.
	Seed int64
	// Clock supplies innerError.date; nil means time.Now.
	Clock func() time.Time
	// LogLimit caps the retained request log entries (most recent kept);
	// 0 means 10000, negative disables entries (counters are always kept).
	LogLimit int
}

// LogEntry is one request seen by the simulator. Path includes /v1.0 and
// Route is the matched route template (e.g. /v1.0/groups/{id}/members), or
// "unknown".
type LogEntry struct {
	Method  string
	Path    string
	Query   string
	Route   string
	Status  int
	Batch   bool   // a sub-request of a $batch
	BatchID string // its id within the batch
}

// Stats are the request counters, kept whatever LogLimit says.
type Stats struct {
	// HTTPRequests counts round trips: plain requests and $batch envelopes.
	HTTPRequests int
	// Requests counts resource requests: plain requests and $batch items.
	Requests int
	// BatchItems counts $batch items (included in Requests).
	BatchItems int
	// ByRoute counts resource requests per route template.
	ByRoute map[string]int
	// ByStatus counts resource requests per status code.
	ByStatus map[int]int
}

type queuedFault struct {
	prefix string
	left   int
	fault  Fault
	writes bool // applies to writes only (FailWrites, RefuseWrites)
}

// faults is the mutable fault-injection and logging state of a Server.
type faults struct {
	mu        sync.Mutex
	latency   time.Duration
	throttle  Throttle
	licensing Licensing
	rng       *rand.Rand
	counter   int
	queued    []queuedFault
	forced    []queuedFault
	limit     int
	log       []LogEntry
	logNext   int
	logFull   bool
	stats     Stats
}

func newFaults(o Options) *faults {
	limit := o.LogLimit
	if limit == 0 {
		limit = 10000
	}
	f := &faults{
		latency:   o.Latency,
		throttle:  o.Throttle,
		licensing: o.Licensing,
		rng:       rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15)),
		limit:     limit,
	}
	f.resetStats()
	return f
}

func (f *faults) resetStats() {
	f.stats = Stats{ByRoute: map[string]int{}, ByStatus: map[int]int{}}
	f.log = nil
	f.logNext = 0
	f.logFull = false
}

func hasPrefix(path, prefix string) bool {
	prefix = strings.TrimPrefix(prefix, "/v1.0")
	return strings.HasPrefix(path, prefix)
}

// pick decides the fault for a read of path (without /v1.0), if any.
// envelope is true for the $batch request itself.
func (f *faults) pick(path string, envelope bool) *Fault {
	return f.pickFor(path, envelope, false)
}

// pickWrite decides the fault for a write (write false: a GET of the
// simulator's write-side state, such as /subscriptions). The throttling
// rule covers reads only; queued and forced faults cover both.
func (f *faults) pickWrite(path string, write bool) *Fault {
	return f.pickFor(path, true, write)
}

func (f *faults) pickFor(path string, envelope, write bool) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.queued {
		q := &f.queued[i]
		if q.left > 0 && (!q.writes || write) && hasPrefix(path, q.prefix) {
			q.left--
			out := q.fault
			if q.left == 0 {
				f.queued = append(f.queued[:i], f.queued[i+1:]...)
			}
			return &out
		}
	}
	for _, q := range f.forced {
		if (!q.writes || write) && hasPrefix(path, q.prefix) {
			out := q.fault
			return &out
		}
	}
	if envelope {
		return nil
	}
	t := f.throttle
	if t.EveryN > 0 {
		f.counter++
		if f.counter%t.EveryN == 0 {
			out := t.fault()
			return &out
		}
	}
	if t.Probability > 0 && f.rng.Float64() < t.Probability {
		out := t.fault()
		return &out
	}
	return nil
}

func (f *faults) record(e LogEntry, envelope bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if envelope || !e.Batch {
		f.stats.HTTPRequests++
	}
	if !envelope {
		f.stats.Requests++
		if e.Batch {
			f.stats.BatchItems++
		}
		f.stats.ByRoute[e.Route]++
		f.stats.ByStatus[e.Status]++
	}
	if f.limit < 0 {
		return
	}
	if len(f.log) < f.limit {
		f.log = append(f.log, e)
		return
	}
	f.log[f.logNext] = e
	f.logNext = (f.logNext + 1) % f.limit
	f.logFull = true
}

// SetLatency changes the latency added to each round trip.
func (s *Server) SetLatency(d time.Duration) {
	s.f.mu.Lock()
	s.f.latency = d
	s.f.mu.Unlock()
}

// SetThrottle replaces the throttling rule; Throttle{} switches it off.
func (s *Server) SetThrottle(t Throttle) {
	s.f.mu.Lock()
	s.f.throttle = t
	s.f.counter = 0
	s.f.mu.Unlock()
}

// SetLicensing replaces the licence state.
func (s *Server) SetLicensing(l Licensing) {
	s.f.mu.Lock()
	s.f.licensing = l
	s.f.mu.Unlock()
}

// FailNext answers the next k requests whose path starts with prefix (with or
// without /v1.0, e.g. "/users" or "/$batch" for the envelope) with fault.
// Queued faults are consumed before forced errors and throttling.
func (s *Server) FailNext(prefix string, k int, fault Fault) {
	if k <= 0 {
		return
	}
	s.f.mu.Lock()
	s.f.queued = append(s.f.queued, queuedFault{prefix: prefix, left: k, fault: fault})
	s.f.mu.Unlock()
}

// ForceError answers every request whose path starts with prefix with fault
// until ClearFaults, e.g. ForceError("/identityProtection", NotLicensedP2()).
func (s *Server) ForceError(prefix string, fault Fault) {
	s.f.mu.Lock()
	s.f.forced = append(s.f.forced, queuedFault{prefix: prefix, fault: fault})
	s.f.mu.Unlock()
}

// ClearFaults removes queued and forced faults and the throttling rule.
func (s *Server) ClearFaults() {
	s.f.mu.Lock()
	s.f.queued = nil
	s.f.forced = nil
	s.f.throttle = Throttle{}
	s.f.counter = 0
	s.f.mu.Unlock()
}

// Log returns the retained request log, oldest first.
func (s *Server) Log() []LogEntry {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if !s.f.logFull {
		return append([]LogEntry(nil), s.f.log...)
	}
	out := make([]LogEntry, 0, len(s.f.log))
	out = append(out, s.f.log[s.f.logNext:]...)
	return append(out, s.f.log[:s.f.logNext]...)
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	out := s.f.stats
	out.ByRoute = make(map[string]int, len(s.f.stats.ByRoute))
	for k, v := range s.f.stats.ByRoute {
		out.ByRoute[k] = v
	}
	out.ByStatus = make(map[int]int, len(s.f.stats.ByStatus))
	for k, v := range s.f.stats.ByStatus {
		out.ByStatus[k] = v
	}
	return out
}

// ResetLog clears the request log and counters (not the faults).
func (s *Server) ResetLog() {
	s.f.mu.Lock()
	s.f.resetStats()
	s.f.mu.Unlock()
}

func retryAfterHeader(f *Fault) string {
	if f.RetryAfter < 0 || (f.Status != 429 && f.Status != 503 && f.Status != 504) {
		return ""
	}
	return strconv.Itoa(f.RetryAfter)
}
