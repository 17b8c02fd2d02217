package graphsim

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves a Tenant as Microsoft Graph v1.0 under /v1.0/. It is an
// http.Handler; Start/URL/Close run it on a loopback port. All methods are
// safe for concurrent use. The Tenant must not be modified while served.
type Server struct {
	t      *Tenant
	f      *faults
	clock  func() time.Time
	secret string
	seq    atomic.Uint64
	ix     *index
	// hook is where change notifications go (SetWebhook); nil: none.
	hook atomic.Pointer[Webhook]
	w    writeState

	mu  sync.Mutex
	lis net.Listener
	srv *http.Server
	url string
}

// NewServer returns a simulator for t.
func NewServer(t *Tenant, opts Options) *Server {
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Server{
		t:      t,
		f:      newFaults(opts),
		clock:  clock,
		secret: "graphsim/" + t.ID,
		ix:     newIndex(t),
	}
}

// Start listens on a free 127.0.0.1 port and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis != nil {
		return errors.New("graphsim: server already started")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on loopback: %w", err)
	}
	s.lis = lis
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + lis.Addr().String()
	go s.srv.Serve(lis) //nolint:errcheck // Serve returns ErrServerClosed on Close.
	return nil
}

// URL is the Graph root of a started server, without version
// (http://127.0.0.1:PORT), as GRAPH_ENDPOINT expects.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// BaseURL is URL() + "/v1.0", the base URL for msgraph-sdk-go's SetBaseUrl.
func (s *Server) BaseURL() string { return s.URL() + "/v1.0" }

// Close stops a started server.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	s.srv, s.lis = nil, nil
	return err
}

// response is a fully rendered answer, used for both plain requests and
// $batch items.
type response struct {
	status     int
	retryAfter string
	location   string
	body       []byte
}

const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == NotifyPath {
		s.serveNotify(w, r)
		return
	}
	if r.URL.Path == AlertsPath {
		s.serveRaise(w, r)
		return
	}
	if r.URL.Path == WritesPath || r.URL.Path == SentMailPath {
		s.serveInspect(w, r)
		return
	}
	s.f.mu.Lock()
	latency := s.f.latency
	s.f.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	reqID := s.requestID()
	clientID := r.Header.Get("client-request-id")
	if clientID == "" {
		clientID = reqID
	}
	base := "http://" + r.Host + "/v1.0"
	var resp response
	if r.URL.Path == "/v1.0/$batch" {
		resp = s.serveBatch(r, base, reqID, clientID)
	} else if kind := deltaKind(strings.TrimPrefix(r.URL.Path, "/v1.0")); kind != "" && r.Method == http.MethodGet {
		resp = s.delta(kind, r.URL.Path, r.URL.RawQuery, base, reqID, clientID)
	} else if isWrite(r.Method, r.URL.Path) {
		resp = s.serveWrite(r, base, reqID, clientID)
	} else {
		resp = s.handle(r.Method, r.URL.Path, r.URL.RawQuery, base, reqID, clientID, "")
	}
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("request-id", reqID)
	h.Set("client-request-id", clientID)
	h.Set("OData-Version", "4.0")
	h.Set("Cache-Control", "no-cache")
	if resp.retryAfter != "" {
		h.Set("Retry-After", resp.retryAfter)
	}
	if resp.location != "" {
		h.Set("Location", resp.location)
	}
	w.WriteHeader(resp.status)
	w.Write(resp.body) //nolint:errcheck // the client went away.
}

func (s *Server) requestID() string {
	n := s.seq.Add(1)
	return fmt.Sprintf("5e1a0000-0000-4000-8000-%012x", n)
}

func (s *Server) errorResponse(f *Fault, reqID, clientID string) response {
	b := make([]byte, 0, 256)
	b = append(b, `{"error":{"code":`...)
	b = appendString(b, f.Code)
	b = append(b, `,"message":`...)
	b = appendString(b, f.Message)
	b = append(b, `,"innerError":{"date":`...)
	b = appendString(b, s.clock().UTC().Format("2006-01-02T15:04:05"))
	b = append(b, `,"request-id":`...)
	b = appendString(b, reqID)
	b = append(b, `,"client-request-id":`...)
	b = appendString(b, clientID)
	b = append(b, `}}}`...)
	return response{status: f.Status, retryAfter: retryAfterHeader(f), body: b}
}

// handle serves one GET (plain or $batch item) and records it. batchID is
// non-empty for $batch items.
func (s *Server) handle(method, path, rawQuery, base, reqID, clientID, batchID string) response {
	rt, _, resp := s.dispatch(method, path, rawQuery, base, reqID, clientID)
	tmpl := "unknown"
	if rt != nil {
		tmpl = "/v1.0" + rt.tmpl
	}
	s.f.record(LogEntry{Method: method, Path: path, Query: rawQuery, Route: tmpl, Status: resp.status, Batch: batchID != "", BatchID: batchID}, false)
	return resp
}

var allowedOptions = map[string]bool{"$select": true, "$filter": true, "$top": true, "$skiptoken": true, "$count": true, "$expand": true}

func (s *Server) dispatch(method, path, rawQuery, base, reqID, clientID string) (*route, []string, response) {
	fail := func(f *Fault) response { return s.errorResponse(f, reqID, clientID) }
	rel, ok := strings.CutPrefix(path, "/v1.0")
	if !ok || (rel != "" && rel[0] != '/') {
		ver, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		return nil, nil, fail(badRequest("BadRequest", "Invalid version: "+ver))
	}
	if f := s.f.pick(rel, false); f != nil {
		rt, params, _ := matchRoute(rel)
		return rt, params, fail(f)
	}
	rt, params, badSeg := matchRoute(rel)
	if rt == nil {
		return nil, nil, fail(badRequest("BadRequest", "Resource not found for the segment '"+badSeg+"'."))
	}
	if method != http.MethodGet {
		return rt, params, fail(&Fault{Status: 405, Code: "Request_BadRequest", Message: "Specified HTTP method is not allowed for the request target.", RetryAfter: -1})
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return rt, params, fail(badRequest("BadRequest", "The query string is malformed."))
	}
	for k := range q {
		if strings.HasPrefix(k, "$") && !allowedOptions[k] {
			return rt, params, fail(badRequest("BadRequest", "Query option '"+k+"' is not supported by the simulator for '"+rt.tmpl+"'."))
		}
	}
	if rt.kind == kindItem {
		for _, k := range []string{"$filter", "$top", "$skiptoken", "$count"} {
			if q.Has(k) {
				return rt, params, fail(badRequest("BadRequest", "Query option '"+k+"' is not allowed on a single entity."))
			}
		}
	}
	sel, f := parseSelect(q.Get("$select"), rt.typeName, rt.types...)
	if f != nil {
		return rt, params, fail(f)
	}
	expand := q.Get("$expand")
	if expand != "" && expand != rt.expand {
		return rt, params, fail(badRequest("BadRequest", "Parsing OData Select and Expand failed: Could not find a property named '"+expand+"' on type '"+rt.typeName+"'."))
	}
	s.f.mu.Lock()
	lic := s.f.licensing
	s.f.mu.Unlock()
	if rt.licence != nil {
		if f := rt.licence(lic, sel, q.Get("$filter")); f != nil {
			return rt, params, fail(f)
		}
	}
	if rt.kind == kindItem {
		v, f := rt.item(s.ix, params)
		if f != nil {
			return rt, params, fail(f)
		}
		return rt, params, response{status: 200, body: s.renderItem(rt, params, v, sel, expand, base)}
	}
	body, f := s.renderList(rt, params, rel, q, sel, expand, base)
	if f != nil {
		return rt, params, fail(f)
	}
	return rt, params, response{status: 200, body: body}
}

func contextURL(base string, rt *route, params []string, sel []string, expand string) string {
	ctx := rt.ctx
	if len(params) > 0 {
		ctx = strings.ReplaceAll(ctx, "{id}", params[0])
	}
	var parts []string
	parts = append(parts, sel...)
	if expand != "" {
		parts = append(parts, expand+"()")
	}
	if len(parts) > 0 {
		ctx += "(" + strings.Join(parts, ",") + ")"
	}
	if rt.kind == kindItem {
		ctx += "/$entity"
	}
	return base + "/$metadata#" + ctx
}

func (s *Server) entityOpts(rt *route, v any, sel []string, expand string) (reflect.Value, entityOptions) {
	rv := reflect.ValueOf(v).Elem()
	o := entityOptions{sel: sel, expand: expand}
	if rt.mixed {
		switch v.(type) {
		case *User:
			o.odataType = "#microsoft.graph.user"
		case *Group:
			o.odataType = "#microsoft.graph.group"
		}
	}
	if expand == "principal" {
		pid := rv.FieldByName("PrincipalID").String()
		o.extra = func(b []byte) []byte {
			b = append(b, `"principal":`...)
			switch p := s.ix.principal(pid).(type) {
			case *User:
				return appendEntity(b, reflect.ValueOf(p).Elem(), entityOptions{odataType: "#microsoft.graph.user"})
			case *Group:
				return appendEntity(b, reflect.ValueOf(p).Elem(), entityOptions{odataType: "#microsoft.graph.group"})
			}
			return append(b, "null"...)
		}
	}
	return rv, o
}

func (s *Server) renderItem(rt *route, params []string, v any, sel []string, expand, base string) []byte {
	rv, o := s.entityOpts(rt, v, sel, expand)
	ent := appendEntity(make([]byte, 0, 1024), rv, o)
	b := make([]byte, 0, len(ent)+128)
	b = append(b, `{"@odata.context":`...)
	b = appendString(b, contextURL(base, rt, params, sel, expand))
	if len(ent) > 2 {
		b = append(b, ',')
	}
	return append(b, ent[1:]...)
}

func (s *Server) renderList(rt *route, params []string, rel string, q url.Values, sel []string, expand, base string) ([]byte, *Fault) {
	col, f := rt.list(s.ix, params)
	if f != nil {
		return nil, f
	}
	var flt filter
	rawFilter := q.Get("$filter")
	if rawFilter != "" {
		if rt.mixed {
			return nil, badRequest("Request_UnsupportedQuery", "Unsupported Query.")
		}
		var err error
		flt, err = parseFilter(rawFilter, rt.types[0], rt.typeName)
		if err != nil {
			code := "BadRequest"
			if rt.directory {
				code = "Request_UnsupportedQuery"
			}
			return nil, badRequest(code, err.Error())
		}
	}
	top, f := parseTop(q.Get("$top"), rt.page, rt.directory)
	if f != nil {
		return nil, f
	}
	scope := rel + "\x00" + rawFilter
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" || q.Has("$skiptoken") {
		off, id, ok := decodeSkipToken(s.secret, scope, tok)
		if !ok {
			return nil, badRequest("BadRequest", "Invalid $skiptoken value.")
		}
		if off >= col.n || col.id(off) != id {
			if rt.directory {
				return nil, badRequest("Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			}
			return nil, badRequest("BadRequest", "Invalid $skiptoken value.")
		}
		start = off
	}
	matches := func(i int) bool {
		return flt == nil || flt.match(reflect.ValueOf(col.at(i)).Elem())
	}
	// Size the buffer from the route's last page so large pages are not
	// regrown several times.
	per := rt.itemSize.Load()
	if per == 0 {
		per = 512
	}
	b := make([]byte, 0, 4096+int64(min(top, col.n-start))*per*9/8)
	b = append(b, `{"@odata.context":`...)
	b = appendString(b, contextURL(base, rt, params, sel, expand))
	if q.Get("$count") == "true" && start == 0 {
		n := 0
		for i := range col.n {
			if matches(i) {
				n++
			}
		}
		b = append(b, `,"@odata.count":`...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, `,"value":[`...)
	written, i := 0, start
	for ; i < col.n && written < top; i++ {
		v := col.at(i)
		if flt != nil && !flt.match(reflect.ValueOf(v).Elem()) {
			continue
		}
		rv, o := s.entityOpts(rt, v, sel, expand)
		if written > 0 {
			b = append(b, ',')
		}
		b = appendEntity(b, rv, o)
		written++
	}
	b = append(b, ']')
	if written > 0 {
		rt.itemSize.Store(int64(len(b) / written))
	}
	next := -1
	for ; i < col.n; i++ {
		if matches(i) {
			next = i
			break
		}
	}
	if next >= 0 {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendString(b, nextLink(base+rel, q, top, encodeSkipToken(s.secret, scope, next, col.id(next))))
	}
	return append(b, '}'), nil
}

// nextLink keeps the caller's query options, as Graph does, and adds the
// page size and $skiptoken.
func nextLink(u string, q url.Values, top int, token string) string {
	var sb strings.Builder
	sb.WriteString(u)
	sep := byte('?')
	add := func(k, v string) {
		sb.WriteByte(sep)
		sep = '&'
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(v))
	}
	for _, k := range []string{"$select", "$filter", "$expand", "$count"} {
		if q.Has(k) {
			add(k, q.Get(k))
		}
	}
	add("$top", strconv.Itoa(top))
	add("$skiptoken", token)
	return sb.String()
}

// serveBatch handles POST /v1.0/$batch.
func (s *Server) serveBatch(r *http.Request, base, reqID, clientID string) response {
	resp := s.batch(r, base, reqID, clientID)
	s.f.record(LogEntry{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: "/v1.0/$batch", Status: resp.status}, true)
	return resp
}
