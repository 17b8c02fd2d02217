package graphsim

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Write is one write request the simulator received: its method, path
// (with /v1.0), query, the JSON body as sent (decompressed) and the status
// it was answered with, faults included.
type Write struct {
	Method string
	Path   string
	Query  string
	Body   json.RawMessage
	Status int
}

// SentMail is a message accepted by POST /users/{id}/sendMail.
type SentMail struct {
	Sender          string
	Subject         string
	ContentType     string // Text or HTML
	Body            string
	To, Cc, Bcc     []string
	Attachments     []SentAttachment
	SaveToSentItems bool
	// RequestBytes is the size of the request body.
	RequestBytes int
}

// SentAttachment is a file attachment of a SentMail.
type SentAttachment struct {
	Name, ContentType, ContentID string
	IsInline                     bool
	Size                         int // decoded bytes
}

// Subscription is a change-notification subscription the simulator holds.
type Subscription struct {
	ID                       string    `json:"id"`
	Resource                 string    `json:"resource"`
	ChangeType               string    `json:"changeType"`
	NotificationURL          string    `json:"notificationUrl"`
	LifecycleNotificationURL string    `json:"lifecycleNotificationUrl"`
	ClientState              string    `json:"-"`
	Expiration               time.Time `json:"-"`
}

// Graph's request-body limit; attachments up to 3 MB fit once base64
// encoded (outlook-large-attachments).
const maxRequestBytes = 4 << 20

// Subscription limits: lifetimes in minutes per resource kind and the
// per-app-and-tenant quota (response-facts A.1, A.2).
const (
	maxDirectoryLifetime = 41760
	minLifetime          = 45
	subscriptionQuota    = 100
	validationTimeout    = 10 * time.Second
)

// writeState is what writes change: the simulator's own state
// (subscriptions, sent mail, alert patches) and the write log. The Tenant
// itself stays immutable: a write to a user or device is recorded and
// answered, not applied.
type writeState struct {
	mu     sync.Mutex
	log    []Write
	mail   []SentMail
	subs   []*Subscription
	alerts map[string]map[string]any
	next   int
}

// Writes returns every write received, oldest first.
func (s *Server) Writes() []Write {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return slices.Clone(s.w.log)
}

// SentMail returns the messages sendMail accepted, oldest first.
func (s *Server) SentMail() []SentMail {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return slices.Clone(s.w.mail)
}

// Subscriptions returns the subscriptions the simulator holds.
func (s *Server) Subscriptions() []Subscription {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	out := make([]Subscription, len(s.w.subs))
	for i, sub := range s.w.subs {
		out[i] = *sub
	}
	return out
}

// ResetWrites clears the write log and sent mail (not subscriptions).
func (s *Server) ResetWrites() {
	s.w.mu.Lock()
	s.w.log, s.w.mail = nil, nil
	s.w.mu.Unlock()
}

// FailWrites answers the next k write requests (any method but GET) whose
// path starts with prefix with fault, e.g.
// FailWrites("/users/u1/revokeSignInSessions", 1, TooManyRequests(3)).
// Reads of the same paths are not affected.
func (s *Server) FailWrites(prefix string, k int, fault Fault) {
	if k <= 0 {
		return
	}
	s.f.mu.Lock()
	s.f.queued = append(s.f.queued, queuedFault{prefix: prefix, left: k, fault: fault, writes: true})
	s.f.mu.Unlock()
}

// RefuseWrites answers every write whose path starts with prefix with fault
// until ClearFaults, e.g. RefuseWrites("/users", InsufficientPrivileges()).
func (s *Server) RefuseWrites(prefix string, fault Fault) {
	s.f.mu.Lock()
	s.f.forced = append(s.f.forced, queuedFault{prefix: prefix, fault: fault, writes: true})
	s.f.mu.Unlock()
}

// isWrite reports whether the simulator's write side serves the request:
// every method but GET, and the subscriptions collection, which is state
// the writes create.
func isWrite(method, path string) bool {
	rel := strings.TrimPrefix(path, "/v1.0")
	if strings.EqualFold(rel, "/$batch") {
		return false
	}
	return method != http.MethodGet || hasSegPrefix(rel, "/subscriptions")
}

func hasSegPrefix(rel, prefix string) bool {
	return len(rel) >= len(prefix) && strings.EqualFold(rel[:len(prefix)], prefix) &&
		(len(rel) == len(prefix) || rel[len(prefix)] == '/')
}

// serveWrite handles one write request and records it.
func (s *Server) serveWrite(r *http.Request, base, reqID, clientID string) response {
	raw, err := readBody(r)
	var resp response
	switch {
	case err != nil:
		resp = s.errorResponse(badRequest("BadRequest", "Unable to read the request body."), reqID, clientID)
	case len(raw) > maxRequestBytes:
		resp = s.errorResponse(&Fault{Status: 413, Code: "RequestEntityTooLarge",
			Message: "The request body exceeds the 4 MB limit; attach larger files through an upload session.", RetryAfter: -1}, reqID, clientID)
	default:
		rel := strings.TrimPrefix(r.URL.Path, "/v1.0")
		if f := s.f.pickWrite(rel, r.Method != http.MethodGet); f != nil {
			resp = s.errorResponse(f, reqID, clientID)
		} else {
			resp = s.write(r.Method, rel, raw, base, reqID, clientID)
			if resp.status == 0 {
				// Not a write the simulator knows: the read side answers
				// (405 on a read route, 400 for an unknown segment).
				_, _, resp = s.dispatch(r.Method, r.URL.Path, r.URL.RawQuery, base, reqID, clientID)
			}
		}
	}
	body := json.RawMessage(nil)
	if len(raw) > 0 {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			body = buf.Bytes()
		} else {
			body = raw
		}
	}
	s.w.mu.Lock()
	s.w.log = append(s.w.log, Write{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: resp.status})
	s.w.mu.Unlock()
	s.f.record(LogEntry{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: "write", Status: resp.status}, false)
	return resp
}

func readBody(r *http.Request) ([]byte, error) {
	var body io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		body = zr
	}
	return io.ReadAll(io.LimitReader(body, maxRequestBytes+1))
}

// write dispatches a write; status 0 means no write route matched.
func (s *Server) write(method, rel string, raw []byte, base, reqID, clientID string) response {
	fail := func(f *Fault) response { return s.errorResponse(f, reqID, clientID) }
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	is := func(want ...string) bool {
		if len(segs) != len(want) {
			return false
		}
		for i, w := range want {
			if w != "*" && !strings.EqualFold(w, segs[i]) {
				return false
			}
		}
		return true
	}
	user := func(id string) *Fault {
		if s.ix.user(id) < 0 {
			return directoryNotFound(id)
		}
		return nil
	}
	device := func(id string) *Fault {
		if s.ix.find("/deviceManagement/managedDevices", sliceSeq(s.t.ManagedDevices), id) < 0 {
			return notFound("ResourceNotFound", "Resource '"+id+"' does not exist.")
		}
		return nil
	}
	switch {
	case method == http.MethodPost && is("users", "*", "revokeSignInSessions"):
		if f := user(segs[1]); f != nil {
			return fail(f)
		}
		return response{status: 200, body: []byte(`{"@odata.context":"` + base + `/$metadata#Edm.Boolean","value":true}`)}
	case method == http.MethodPatch && is("users", "*"):
		if f := user(segs[1]); f != nil {
			return fail(f)
		}
		if f := patchOnly(raw, "microsoft.graph.user", "accountEnabled", "passwordProfile"); f != nil {
			return fail(f)
		}
		return response{status: 204}
	case method == http.MethodPost && is("users", "*", "sendMail"):
		if f := user(segs[1]); f != nil {
			return fail(f)
		}
		return s.sendMail(segs[1], raw, fail)
	case method == http.MethodPatch && is("users", "*", "mailFolders", "inbox", "messageRules", "*"):
		if f := user(segs[1]); f != nil {
			return fail(f)
		}
		if f := patchOnly(raw, "microsoft.graph.messageRule", "isEnabled", "displayName", "sequence", "actions", "conditions", "exceptions"); f != nil {
			return fail(f)
		}
		// Message rules are not modelled: any rule id of a known mailbox
		// exists, and the answer is the patched rule.
		out := map[string]any{"@odata.context": base + "/$metadata#users('" + segs[1] + "')/mailFolders('inbox')/messageRules/$entity", "id": segs[5]}
		mergeJSON(out, raw)
		b, _ := json.Marshal(out)
		return response{status: 200, body: b}
	case method == http.MethodPost && is("identityProtection", "riskyUsers", "confirmCompromised"):
		if f := s.p2(); f != nil {
			return fail(f)
		}
		var body struct {
			UserIDs []string `json:"userIds"`
		}
		if json.Unmarshal(raw, &body) != nil || len(body.UserIDs) == 0 {
			return fail(badRequest("BadRequest", "userIds is required."))
		}
		return response{status: 204}
	case method == http.MethodPost && is("security", "collaboration", "analyzedEmails", "remediate"):
		return s.remediate(raw, fail)
	case method == http.MethodPost && (is("deviceManagement", "managedDevices", "*", "windowsDefenderScan") ||
		is("deviceManagement", "managedDevices", "*", "remoteLock") || is("deviceManagement", "managedDevices", "*", "retire") ||
		is("deviceManagement", "managedDevices", "*", "wipe")):
		if f := device(segs[2]); f != nil {
			return fail(f)
		}
		if len(raw) > 0 && !json.Valid(raw) {
			return fail(badRequest("BadRequest", "The request body is not valid JSON."))
		}
		return response{status: 204}
	case method == http.MethodPatch && is("security", "alerts_v2", "*"):
		return s.patchAlert(segs[2], raw, base, fail)
	case method == http.MethodPost && is("security", "alerts_v2", "*", "comments"):
		return s.commentAlert(segs[2], raw, base, fail)
	case hasSegPrefix(rel, "/subscriptions"):
		return s.subscriptions(method, segs, raw, base, fail)
	}
	return response{}
}

func (s *Server) p2() *Fault {
	s.f.mu.Lock()
	l := s.f.licensing
	s.f.mu.Unlock()
	if l.WithoutP1 || l.WithoutP2 {
		f := NotLicensedP2()
		return &f
	}
	return nil
}

// patchOnly checks a PATCH body is a JSON object of writable properties.
func patchOnly(raw []byte, typeName string, writable ...string) *Fault {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil || body == nil {
		return badRequest("BadRequest", "The request body must be a JSON object.")
	}
	if len(body) == 0 {
		return badRequest("BadRequest", "The request body has no properties to update.")
	}
	for k := range body {
		if k != "@odata.type" && !slices.Contains(writable, k) {
			return badRequest("BadRequest", "Property '"+k+"' is not writable on type '"+typeName+"' (or does not exist).")
		}
	}
	return nil
}

func mergeJSON(dst map[string]any, raw []byte) {
	var patch map[string]any
	if json.Unmarshal(raw, &patch) == nil {
		for k, v := range patch {
			dst[k] = v
		}
	}
}

var (
	remediationSeverities = []string{"low", "medium", "high"}
	remediationActions    = []string{"moveToJunk", "moveToInbox", "hardDelete", "softDelete", "moveToDeletedItems"}
)

func (s *Server) remediate(raw []byte, fail func(*Fault) response) response {
	s.f.mu.Lock()
	l := s.f.licensing
	s.f.mu.Unlock()
	if l.WithoutMDOP2 {
		return fail(&Fault{Status: 403, Code: "Forbidden", Message: "The tenant is not licensed for Microsoft Defender for Office 365 Plan 2.", RetryAfter: -1})
	}
	var body struct {
		DisplayName    string `json:"displayName"`
		Severity       string `json:"severity"`
		Action         string `json:"action"`
		AnalyzedEmails []struct {
			NetworkMessageID      string `json:"networkMessageId"`
			RecipientEmailAddress string `json:"recipientEmailAddress"`
		} `json:"analyzedEmails"`
	}
	switch {
	case json.Unmarshal(raw, &body) != nil:
		return fail(badRequest("BadRequest", "The request body is not valid JSON."))
	case body.DisplayName == "" || !slices.Contains(remediationSeverities, body.Severity) || !slices.Contains(remediationActions, body.Action):
		return fail(badRequest("BadRequest", "displayName, severity (low, medium, high) and action are required."))
	case len(body.AnalyzedEmails) == 0 || len(body.AnalyzedEmails) > 50000:
		return fail(badRequest("BadRequest", "analyzedEmails must hold 1 to 50000 messages."))
	}
	s.w.mu.Lock()
	s.w.next++
	id := fmt.Sprintf("a7d1%04x-0000-4000-8000-000000000000", s.w.next)
	s.w.mu.Unlock()
	return response{status: 202, location: "https://security.microsoft.com/action-center/history?actionId=" + id}
}

func (s *Server) alert(id string) (map[string]any, *Fault) {
	rt, params, _ := matchRoute("/security/alerts_v2/" + id)
	if rt == nil || rt.kind != kindItem {
		return nil, notFound("ResourceNotFound", "Resource '"+id+"' does not exist.")
	}
	v, f := rt.item(s.ix, params)
	if f != nil {
		return nil, f
	}
	var out map[string]any
	_ = json.Unmarshal(s.renderItem(rt, params, v, nil, "", ""), &out)
	s.w.mu.Lock()
	for k, v := range s.w.alerts[id] {
		out[k] = v
	}
	s.w.mu.Unlock()
	return out, nil
}

func (s *Server) patchAlert(id string, raw []byte, base string, fail func(*Fault) response) response {
	cur, f := s.alert(id)
	if f != nil {
		return fail(f)
	}
	if f := patchOnly(raw, "microsoft.graph.security.alert", "status", "classification", "determination", "assignedTo"); f != nil {
		return fail(f)
	}
	var patch map[string]any
	_ = json.Unmarshal(raw, &patch)
	delete(patch, "@odata.type")
	// The live alert holds the change (and its new lastUpdateDateTime), so
	// the list and the item both show it; the answer is the item after it.
	s.patchLiveAlert(id, patch)
	if cur, f = s.alert(id); f != nil {
		return fail(f)
	}
	cur["@odata.context"] = base + "/$metadata#security/alerts_v2/$entity"
	b, _ := json.Marshal(cur)
	return response{status: 200, body: b}
}

func (s *Server) commentAlert(id string, raw []byte, base string, fail func(*Fault) response) response {
	cur, f := s.alert(id)
	if f != nil {
		return fail(f)
	}
	// Graph documents one alertComment object as the body.
	var body struct {
		Comment string `json:"comment"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Comment == "" {
		return fail(badRequest("BadRequest", "The body must be an alertComment object with a comment."))
	}
	comments, _ := cur["comments"].([]any)
	comments = append(comments, map[string]any{
		"comment": body.Comment, "createdByDisplayName": "Automation",
		"createdDateTime": s.clock().UTC().Format(time.RFC3339Nano),
	})
	s.w.mu.Lock()
	if s.w.alerts == nil {
		s.w.alerts = map[string]map[string]any{}
	}
	if s.w.alerts[id] == nil {
		s.w.alerts[id] = map[string]any{}
	}
	s.w.alerts[id]["comments"] = comments
	s.w.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"@odata.context": base + "/$metadata#Collection(microsoft.graph.security.alertComment)", "value": comments})
	return response{status: 200, body: b}
}

func (s *Server) sendMail(sender string, raw []byte, fail func(*Fault) response) response {
	type recipient struct {
		EmailAddress struct {
			Address string `json:"address"`
		} `json:"emailAddress"`
	}
	var body struct {
		Message *struct {
			Subject string `json:"subject"`
			Body    struct {
				ContentType string `json:"contentType"`
				Content     string `json:"content"`
			} `json:"body"`
			To          []recipient `json:"toRecipients"`
			Cc          []recipient `json:"ccRecipients"`
			Bcc         []recipient `json:"bccRecipients"`
			Attachments []struct {
				ODataType    string `json:"@odata.type"`
				Name         string `json:"name"`
				ContentType  string `json:"contentType"`
				ContentID    string `json:"contentId"`
				IsInline     bool   `json:"isInline"`
				ContentBytes string `json:"contentBytes"`
			} `json:"attachments"`
		} `json:"message"`
		SaveToSentItems *bool `json:"saveToSentItems"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Message == nil {
		return fail(badRequest("ErrorInvalidRequest", "The message is missing from the request body."))
	}
	m := body.Message
	addrs := func(rs []recipient) ([]string, bool) {
		var out []string
		for _, r := range rs {
			if r.EmailAddress.Address == "" {
				return nil, false
			}
			out = append(out, r.EmailAddress.Address)
		}
		return out, true
	}
	to, ok1 := addrs(m.To)
	cc, ok2 := addrs(m.Cc)
	bcc, ok3 := addrs(m.Bcc)
	if !ok1 || !ok2 || !ok3 || len(to)+len(cc)+len(bcc) == 0 {
		return fail(badRequest("ErrorInvalidRecipients", "At least one recipient is not valid."))
	}
	sent := SentMail{Sender: sender, Subject: m.Subject, ContentType: m.Body.ContentType, Body: m.Body.Content,
		To: to, Cc: cc, Bcc: bcc, SaveToSentItems: body.SaveToSentItems == nil || *body.SaveToSentItems, RequestBytes: len(raw)}
	for _, a := range m.Attachments {
		if a.ODataType != "#microsoft.graph.fileAttachment" {
			return fail(badRequest("ErrorInvalidRequest", "Only file attachments are simulated."))
		}
		data, err := base64.StdEncoding.DecodeString(a.ContentBytes)
		if err != nil {
			return fail(badRequest("ErrorMimeContentInvalidBase64String", "The attachment content is not valid base64."))
		}
		sent.Attachments = append(sent.Attachments, SentAttachment{Name: a.Name, ContentType: a.ContentType, ContentID: a.ContentID, IsInline: a.IsInline, Size: len(data)})
	}
	s.w.mu.Lock()
	s.w.mail = append(s.w.mail, sent)
	s.w.mu.Unlock()
	return response{status: 202}
}

// subscriptions serves /subscriptions[/{id}[/reauthorize]].
func (s *Server) subscriptions(method string, segs []string, raw []byte, base string, fail func(*Fault) response) response {
	render := func(sub *Subscription, clientState bool) map[string]any {
		out := map[string]any{
			"id": sub.ID, "resource": sub.Resource, "applicationId": "a5c1a7e0-0000-4000-8000-000000000001",
			"changeType": sub.ChangeType, "clientState": nil, "notificationUrl": sub.NotificationURL,
			"notificationQueryOptions": nil, "lifecycleNotificationUrl": nil,
			"expirationDateTime": sub.Expiration.UTC().Format(time.RFC3339Nano), "creatorId": "a5c1a7e0-0000-4000-8000-000000000002",
			"includeResourceData": nil, "latestSupportedTlsVersion": "v1_2", "encryptionCertificate": nil,
			"encryptionCertificateId": nil, "notificationUrlAppId": nil,
		}
		if sub.LifecycleNotificationURL != "" {
			out["lifecycleNotificationUrl"] = sub.LifecycleNotificationURL
		}
		// Graph echoes clientState to the creator only.
		if clientState && sub.ClientState != "" {
			out["clientState"] = sub.ClientState
		}
		return out
	}
	entity := func(status int, sub *Subscription, clientState bool) response {
		out := render(sub, clientState)
		out["@odata.context"] = base + "/$metadata#subscriptions/$entity"
		b, _ := json.Marshal(out)
		return response{status: status, body: b}
	}
	find := func(id string) (int, *Subscription) {
		s.w.mu.Lock()
		defer s.w.mu.Unlock()
		for i, sub := range s.w.subs {
			if sub.ID == id {
				return i, sub
			}
		}
		return -1, nil
	}
	missing := func(id string) response {
		return fail(notFound("ResourceNotFound", "The object was not found: subscription '"+id+"'."))
	}
	switch {
	case len(segs) == 1 && method == http.MethodGet:
		s.w.mu.Lock()
		value := make([]any, 0, len(s.w.subs))
		for _, sub := range s.w.subs {
			value = append(value, render(sub, false))
		}
		s.w.mu.Unlock()
		b, _ := json.Marshal(map[string]any{"@odata.context": base + "/$metadata#subscriptions", "value": value})
		return response{status: 200, body: b}
	case len(segs) == 1 && method == http.MethodPost:
		return s.createSubscription(raw, fail, func(sub *Subscription) response { return entity(201, sub, true) })
	case len(segs) == 2 && method == http.MethodGet:
		if _, sub := find(segs[1]); sub != nil {
			return entity(200, sub, false)
		}
		return missing(segs[1])
	case len(segs) == 2 && method == http.MethodPatch:
		_, sub := find(segs[1])
		if sub == nil {
			return missing(segs[1])
		}
		if f := patchOnly(raw, "microsoft.graph.subscription", "expirationDateTime", "notificationUrl"); f != nil {
			return fail(f)
		}
		var body struct {
			Expiration string `json:"expirationDateTime"`
		}
		_ = json.Unmarshal(raw, &body)
		exp, f := s.expiration(body.Expiration, sub.Resource)
		if f != nil {
			return fail(f)
		}
		s.w.mu.Lock()
		sub.Expiration = exp
		s.w.mu.Unlock()
		return entity(200, sub, false)
	case len(segs) == 2 && method == http.MethodDelete:
		i, sub := find(segs[1])
		if sub == nil {
			return missing(segs[1])
		}
		s.w.mu.Lock()
		s.w.subs = slices.Delete(s.w.subs, i, i+1)
		s.w.mu.Unlock()
		return response{status: 204}
	case len(segs) == 3 && strings.EqualFold(segs[2], "reauthorize") && method == http.MethodPost:
		if _, sub := find(segs[1]); sub == nil {
			return missing(segs[1])
		}
		return response{status: 204}
	}
	return fail(&Fault{Status: 405, Code: "Request_BadRequest", Message: "Specified HTTP method is not allowed for the request target.", RetryAfter: -1})
}

// createSubscription validates the request as Graph does, then makes the
// validation POSTs to the notification URLs before creating it.
func (s *Server) createSubscription(raw []byte, fail func(*Fault) response, ok func(*Subscription) response) response {
	var body struct {
		Resource                 string `json:"resource"`
		ChangeType               string `json:"changeType"`
		NotificationURL          string `json:"notificationUrl"`
		LifecycleNotificationURL string `json:"lifecycleNotificationUrl"`
		ClientState              string `json:"clientState"`
		Expiration               string `json:"expirationDateTime"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fail(badRequest("BadRequest", "The request body is not valid JSON."))
	}
	if body.Resource == "" || body.ChangeType == "" || body.NotificationURL == "" || body.Expiration == "" {
		return fail(badRequest("InvalidRequest", "resource, changeType, notificationUrl and expirationDateTime are required."))
	}
	if !directoryResource(body.Resource) {
		return fail(badRequest("InvalidRequest", "The simulator supports subscriptions to users and groups only, not '"+body.Resource+"'."))
	}
	for _, c := range strings.Split(body.ChangeType, ",") {
		// Users and groups notify updated (also on create) and deleted.
		if c != "updated" && c != "deleted" {
			return fail(badRequest("InvalidRequest", "changeType '"+c+"' is not supported for resource '"+body.Resource+"'."))
		}
	}
	if len(body.ClientState) > 128 {
		return fail(badRequest("InvalidRequest", "clientState must not exceed 128 characters."))
	}
	exp, f := s.expiration(body.Expiration, body.Resource)
	if f != nil {
		return fail(f)
	}
	for _, u := range []string{body.NotificationURL, body.LifecycleNotificationURL} {
		if u == "" {
			continue
		}
		if f := validateNotificationURL(u); f != nil {
			return fail(f)
		}
	}
	s.w.mu.Lock()
	n := len(s.w.subs)
	s.w.mu.Unlock()
	if n >= subscriptionQuota {
		return fail(&Fault{Status: 403, Code: "ExtensionError", Message: "Subscription limit reached: at most 100 subscriptions per app and tenant.", RetryAfter: -1})
	}
	s.w.mu.Lock()
	s.w.next++
	id := fmt.Sprintf("5ab5c000-0000-4000-8000-%012x", s.w.next)
	s.w.mu.Unlock()
	for _, u := range []string{body.NotificationURL, body.LifecycleNotificationURL} {
		if u == "" {
			continue
		}
		if f := validate(u, id); f != nil {
			return fail(f)
		}
	}
	sub := &Subscription{ID: id, Resource: body.Resource, ChangeType: body.ChangeType, NotificationURL: body.NotificationURL,
		LifecycleNotificationURL: body.LifecycleNotificationURL, ClientState: body.ClientState, Expiration: exp}
	s.w.mu.Lock()
	s.w.subs = append(s.w.subs, sub)
	s.w.mu.Unlock()
	return ok(sub)
}

func directoryResource(r string) bool {
	r = strings.Trim(r, "/")
	segs := strings.Split(r, "/")
	switch {
	case len(segs) == 1:
		return segs[0] == "users" || segs[0] == "groups"
	case len(segs) == 2:
		return (segs[0] == "users" || segs[0] == "groups") && segs[1] != ""
	case len(segs) == 3:
		return segs[0] == "groups" && (segs[2] == "members" || segs[2] == "owners")
	}
	return false
}

// expiration applies Graph's lifetime rules for directory resources: below
// 45 minutes is raised to 45, beyond 41,760 is refused.
func (s *Server) expiration(v, resource string) (time.Time, *Fault) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest("InvalidRequest", "expirationDateTime '"+v+"' is not a DateTimeOffset.")
	}
	now := s.clock()
	if !t.After(now) {
		return time.Time{}, badRequest("InvalidRequest", "Subscription expiration must be in the future.")
	}
	if t.Sub(now) > maxDirectoryLifetime*time.Minute {
		return time.Time{}, badRequest("InvalidRequest", fmt.Sprintf("Subscription expiration can only be %d minutes in the future for resource '%s'.", maxDirectoryLifetime, resource))
	}
	if t.Sub(now) < minLifetime*time.Minute {
		t = now.Add(minLifetime * time.Minute)
	}
	return t.UTC(), nil
}

// validateNotificationURL requires https, as Graph does; plain http is
// allowed to loopback only, so tests and the demo can use a local webhook.
func validateNotificationURL(raw string) *Fault {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return badRequest("InvalidRequest", "Invalid notification url '"+raw+"'.")
	}
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if u.Scheme == "http" && (host == "localhost" || (ip != nil && ip.IsLoopback())) {
		return nil
	}
	return badRequest("InvalidRequest", "Subscription validation request failed. The notification url must use https.")
}

// validate makes Graph's validation request: POST notificationUrl with
// ?validationToken=T (text/plain); the endpoint must answer 200 with the
// decoded token as its whole body within 10 seconds.
func validate(notificationURL, id string) *Fault {
	token := "Validation: Testing client application reachability for subscription Request-Id: " + id
	u := notificationURL
	if strings.Contains(u, "?") {
		u += "&"
	} else {
		u += "?"
	}
	u += "validationToken=" + url.QueryEscape(token)
	failed := badRequest("InvalidRequest", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.")
	req, err := http.NewRequest(http.MethodPost, u, nil)
	if err != nil {
		return failed
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	client := &http.Client{Timeout: validationTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return failed
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK || string(got) != token {
		return failed
	}
	return nil
}
