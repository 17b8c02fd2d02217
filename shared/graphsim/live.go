package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// live is the part of the tenant that changes while the simulator runs:
// alerts raised or updated at run time (RaiseAlert, UpdateAlert, PATCH) and
// the directory change log behind /users/delta and /groups/delta. Alerts are
// copy-on-write, so a page being rendered keeps the slice it started with.
type live struct {
	alerts    []Alert
	alertsSet bool
	// changes is the directory change log; a delta token is a position in it.
	changes []change
	// expiredBefore: tokens older than this answer 410 (ExpireDeltaTokens).
	expiredBefore int
}

type change struct {
	kind, id string
}

// alertList is the current alerts, newest first.
func (ix *index) alertList() []Alert {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.live.alertsSet {
		return ix.live.alerts
	}
	return ix.t.Alerts
}

// lockAlerts locks the index with the live alert list in place (a copy of
// the generated one on first use).
func (s *Server) lockAlerts() *index {
	ix := s.ix
	ix.mu.Lock()
	if !ix.live.alertsSet {
		ix.live.alerts, ix.live.alertsSet = ix.t.Alerts, true
	}
	return ix
}

// RaiseAlert adds an alert as Defender would when it detects something:
// empty ID, TenantID and times are filled in (created and last updated now).
// It returns the alert as stored. The demo's POST /graphsim/alerts uses it.
func (s *Server) RaiseAlert(a Alert) Alert {
	now := s.clock().UTC()
	ix := s.lockAlerts()
	defer ix.mu.Unlock()
	if a.ID == "" {
		a.ID = fmt.Sprintf("da%016x_%d", s.seq.Add(1)+uint64(now.UnixNano()), len(ix.live.alerts))
	}
	if a.TenantID == "" {
		a.TenantID = s.t.ID
	}
	if a.CreatedDateTime.IsZero() {
		a.CreatedDateTime = now
	}
	if a.FirstActivityDateTime.IsZero() {
		a.FirstActivityDateTime = a.CreatedDateTime.Add(-10 * time.Minute)
	}
	if a.LastActivityDateTime.IsZero() {
		a.LastActivityDateTime = a.CreatedDateTime
	}
	if a.LastUpdateDateTime.IsZero() {
		a.LastUpdateDateTime = a.CreatedDateTime
	}
	if a.Status == "" {
		a.Status = "new"
	}
	if a.Comments == nil {
		a.Comments = []AlertComment{}
	}
	if a.MitreTechniques == nil {
		a.MitreTechniques = []string{}
	}
	ix.live.alerts = append([]Alert{a}, ix.live.alerts...)
	delete(ix.byID, alertsPath)
	return a
}

// UpdateAlert changes an alert as Defender would (a status or
// classification set in the portal) and stamps its lastUpdateDateTime now.
// It reports whether the alert exists.
func (s *Server) UpdateAlert(id string, change func(*Alert)) bool {
	now := s.clock().UTC()
	ix := s.lockAlerts()
	defer ix.mu.Unlock()
	i := slices.IndexFunc(ix.live.alerts, func(a Alert) bool { return a.ID == id })
	if i < 0 {
		return false
	}
	next := slices.Clone(ix.live.alerts)
	change(&next[i])
	next[i].LastUpdateDateTime = now
	if next[i].Status == "resolved" && next[i].ResolvedDateTime.IsZero() {
		next[i].ResolvedDateTime = now
	}
	ix.live.alerts = next
	return true
}

// patchLiveAlert applies a PATCH's fields to the stored alert, so the list
// shows the change and its new lastUpdateDateTime, as Graph's does.
func (s *Server) patchLiveAlert(id string, patch map[string]any) {
	s.UpdateAlert(id, func(a *Alert) {
		str := func(k string, to *string) {
			if v, ok := patch[k].(string); ok {
				*to = v
			}
		}
		str("status", &a.Status)
		str("classification", &a.Classification)
		str("determination", &a.Determination)
		str("assignedTo", &a.AssignedTo)
	})
}

const alertsPath = "/security/alerts_v2"

// AlertsPath is the simulator's own route (outside /v1.0) that raises an
// alert at run time: POST with an optional JSON body {"kind":
// "accountCompromise"|"phishing"|"device", "user": id or UPN} answers 201
// with the alert. The demo prints it so a newcomer can watch an incident
// appear within one poll.
const AlertsPath = "/graphsim/alerts"

func (s *Server) serveRaise(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST raises an alert", http.StatusMethodNotAllowed)
		return
	}
	var body struct {
		Kind string `json:"kind"`
		User string `json:"user"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
			http.Error(w, "body must be {\"kind\":...,\"user\":...}", http.StatusBadRequest)
			return
		}
	}
	a, err := s.demoAlert(body.Kind, body.User)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a = s.RaiseAlert(a)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(a)
}

// demoAlert builds an alert of a kind about a user, with evidence in Graph's
// shapes.
func (s *Server) demoAlert(kind, user string) (Alert, error) {
	if kind == "" {
		kind = "accountCompromise"
	}
	var u *User
	if user == "" {
		u = &s.t.Users[min(uHelpdesk2, len(s.t.Users)-1)]
	} else if i := s.ix.user(user); i >= 0 {
		u = &s.t.Users[i]
	} else {
		return Alert{}, fmt.Errorf("no user %q in the demo tenant", user)
	}
	acct := &UserAccount{AccountName: strings.SplitN(u.UserPrincipalName, "@", 2)[0], AzureAdUserID: u.ID,
		DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName}
	userEv := AlertEvidence{ODataType: ODataUserEvidence, UserAccount: acct, Verdict: "suspicious", RemediationStatus: "none",
		Roles: []string{"compromised"}, DetailedRoles: []string{}, Tags: []string{}}
	a := Alert{Severity: "high", Evidence: []AlertEvidence{userEv}}
	switch kind {
	case "accountCompromise":
		a.Title, a.Category = "Impossible travel activity", "InitialAccess"
		a.ServiceSource, a.DetectionSource, a.ProductName = "microsoftDefenderForCloudApps", "cloudAppSecurity", "Microsoft Defender for Cloud Apps"
	case "phishing":
		a.Title, a.Category = "A potentially malicious URL click was detected", "InitialAccess"
		a.ServiceSource, a.DetectionSource, a.ProductName = "microsoftDefenderForOffice365", "microsoftDefenderForOffice365", "Microsoft Defender for Office 365"
		mb := userEv
		mb.ODataType, mb.PrimaryAddress, mb.DisplayName = ODataMailboxEvidence, u.Mail, u.DisplayName
		link := userEv
		link.ODataType, link.UserAccount, link.URL = ODataURLEvidence, nil, "http://login-demo.phish.example/?id=1"
		a.Evidence = []AlertEvidence{mb, link}
	case "device":
		a.Title, a.Category = "Suspicious PowerShell command line", "Execution"
		a.ServiceSource, a.DetectionSource, a.ProductName = "microsoftDefenderForEndpoint", "microsoftDefenderForEndpoint", "Microsoft Defender for Endpoint"
		for i := range s.t.ManagedDevices {
			if d := &s.t.ManagedDevices[i]; d.UserID == u.ID {
				dev := userEv
				dev.ODataType, dev.UserAccount = ODataDeviceEvidence, nil
				dev.AzureAdDeviceID, dev.DeviceDNSName, dev.OSPlatform = d.AzureADDeviceID, strings.ToLower(d.DeviceName), "Windows11"
				a.Evidence = append([]AlertEvidence{dev}, a.Evidence...)
				break
			}
		}
	default:
		return Alert{}, fmt.Errorf("kind %q is not accountCompromise, phishing or device", kind)
	}
	a.Description = a.Title + " was observed for " + u.DisplayName + "."
	return a, nil
}

// ChangeUser records that a user changed, as the directory would after an
// edit: /users/delta reports it to a client holding an older token. The
// served object is the tenant's (the simulator does not edit users).
func (s *Server) ChangeUser(id string) { s.recordChange("users", id) }

// ChangeGroup records that a group (or its membership) changed.
func (s *Server) ChangeGroup(id string) { s.recordChange("groups", id) }

func (s *Server) recordChange(kind, id string) {
	s.ix.mu.Lock()
	s.ix.live.changes = append(s.ix.live.changes, change{kind, id})
	s.ix.mu.Unlock()
}

// ExpireDeltaTokens makes every delta token issued so far answer 410 Gone,
// as Graph does for a token past its lifetime: the client must resync.
func (s *Server) ExpireDeltaTokens() {
	s.ix.mu.Lock()
	s.ix.live.expiredBefore = len(s.ix.live.changes) + 1
	s.ix.mu.Unlock()
}

// deltaPageSize is the simulator's page for a full delta sync (Graph
// documents none; clients follow nextLink).
const deltaPageSize = 200

// deltaKind returns "users" or "groups" for a delta path.
func deltaKind(rel string) string {
	switch rel {
	case "/users/delta", "/users/delta()", "/users/microsoft.graph.delta()":
		return "users"
	case "/groups/delta", "/groups/delta()", "/groups/microsoft.graph.delta()":
		return "groups"
	}
	return ""
}

// serveDelta answers /users/delta and /groups/delta: a full sync pages
// every object with $skiptoken and ends with @odata.deltaLink; a
// $deltatoken returns the objects changed since it ($deltatoken=latest:
// none, just a link from now); an expired token is 410 Gone with a
// Location to start over (Graph's syncStateNotFound).
func (s *Server) serveDelta(kind, rawQuery, base string, fail func(*Fault) response) response {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fail(badRequest("BadRequest", "The query is not valid."))
	}
	for k := range q {
		if k != "$deltatoken" && k != "$skiptoken" && k != "$select" {
			return fail(badRequest("BadRequest", "Query option '"+k+"' is not supported with delta."))
		}
	}
	self := base + "/" + kind + "/delta()"
	ix := s.ix
	ix.mu.Lock()
	pos, expired := len(ix.live.changes), ix.live.expiredBefore
	changed := map[string]bool{}
	var tokenPos int
	var haveToken bool
	if tok := q.Get("$deltatoken"); tok != "" {
		haveToken = true
		if tok == "latest" {
			tokenPos = pos
		} else if p, ok := decodeToken(kind+":delta:", tok); ok && p <= pos {
			tokenPos = p
		} else {
			ix.mu.Unlock()
			return fail(badRequest("BadRequest", "The delta token is not valid."))
		}
		for _, c := range ix.live.changes[tokenPos:] {
			if c.kind == kind {
				changed[c.id] = true
			}
		}
	}
	ix.mu.Unlock()
	if haveToken && q.Get("$deltatoken") != "latest" && tokenPos < expired {
		f := &Fault{Status: http.StatusGone, Code: "syncStateNotFound", Message: "The sync state of this delta token has expired; start a new full synchronization.", RetryAfter: -1}
		r := fail(f)
		r.location = self
		return r
	}
	type item = map[string]any
	var items []item
	add := func(id string) {
		if kind == "users" {
			if i := ix.user(id); i >= 0 {
				u := &s.t.Users[i]
				items = append(items, item{"id": u.ID, "displayName": u.DisplayName, "userPrincipalName": u.UserPrincipalName, "accountEnabled": u.AccountEnabled})
			}
			return
		}
		for i := range s.t.Groups {
			if g := &s.t.Groups[i]; g.ID == id {
				items = append(items, item{"id": g.ID, "displayName": g.DisplayName})
				return
			}
		}
	}
	out := item{"@odata.context": base + "/$metadata#" + kind}
	if haveToken {
		ids := make([]string, 0, len(changed))
		for id := range changed {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			add(id)
		}
		out["@odata.deltaLink"] = self + "?$deltatoken=" + encodeToken(kind+":delta:", pos)
	} else {
		start := 0
		if st := q.Get("$skiptoken"); st != "" {
			p, ok := decodeToken(kind+":full:", st)
			if !ok {
				return fail(badRequest("BadRequest", "The skip token is not valid."))
			}
			start = p
		}
		n := len(s.t.Users)
		if kind == "groups" {
			n = len(s.t.Groups)
		}
		end := min(n, start+deltaPageSize)
		for i := start; i < end; i++ {
			if kind == "users" {
				add(s.t.Users[i].ID)
			} else {
				add(s.t.Groups[i].ID)
			}
		}
		if end < n {
			out["@odata.nextLink"] = self + "?$skiptoken=" + encodeToken(kind+":full:", end)
		} else {
			out["@odata.deltaLink"] = self + "?$deltatoken=" + encodeToken(kind+":delta:", pos)
		}
	}
	if items == nil {
		items = []item{}
	}
	out["value"] = items
	b, _ := json.Marshal(out)
	return response{status: http.StatusOK, body: b}
}

func encodeToken(prefix string, n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.Itoa(n)))
}

func decodeToken(prefix, tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// delta serves a delta request with the fault injection and request log
// every other read gets.
func (s *Server) delta(kind, path, rawQuery, base, reqID, clientID string) response {
	fail := func(f *Fault) response { return s.errorResponse(f, reqID, clientID) }
	rel := strings.TrimPrefix(path, "/v1.0")
	var resp response
	if f := s.f.pick(rel, false); f != nil {
		resp = fail(f)
	} else {
		resp = s.serveDelta(kind, rawQuery, base, fail)
	}
	s.f.record(LogEntry{Method: http.MethodGet, Path: path, Query: rawQuery, Route: "/v1.0/" + kind + "/delta", Status: resp.status}, false)
	return resp
}

// UserID returns the id of the tenant's i-th user (modulo the population),
// for tests that need many distinct subjects.
func (s *Server) UserID(i int) string { return s.t.Users[i%len(s.t.Users)].ID }
