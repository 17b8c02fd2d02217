package graphsim

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxBatchRequests is Graph's limit on requests in one JSON batch.
const MaxBatchRequests = 20

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchResult struct {
	id   string
	resp response
}

// batch executes a JSON batch: each item runs through the same handlers as a
// plain request (faults, throttling and logging included), in dependsOn
// order; an item whose dependency failed gets 424. Responses are returned in
// reverse request order, so clients must match them by id as Graph requires.
func (s *Server) batch(r *http.Request, base, reqID, clientID string) response {
	fail := func(f *Fault) response { return s.errorResponse(f, reqID, clientID) }
	if f := s.f.pick("/$batch", true); f != nil {
		return fail(f)
	}
	if r.Method != http.MethodPost {
		return fail(&Fault{Status: 405, Code: "Request_BadRequest", Message: "Specified HTTP method is not allowed for the request target.", RetryAfter: -1})
	}
	var body io.Reader = r.Body
	// msgraph-sdk-go's default middleware gzips request bodies, as Graph allows.
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return fail(badRequest("BadRequest", "Invalid batch payload format."))
		}
		defer zr.Close()
		body = zr
	}
	raw, err := io.ReadAll(io.LimitReader(body, 4<<20))
	if err != nil {
		return fail(badRequest("BadRequest", "Invalid batch payload format."))
	}
	var payload struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := json.Unmarshal(raw, &payload); err != nil || payload.Requests == nil {
		return fail(badRequest("BadRequest", "Invalid batch payload format."))
	}
	reqs := payload.Requests
	if len(reqs) == 0 {
		return fail(badRequest("BadRequest", "Invalid batch payload format: the batch contains no requests."))
	}
	if len(reqs) > MaxBatchRequests {
		return fail(badRequest("BadRequest", fmt.Sprintf("The batch contains %d requests; the limit is %d.", len(reqs), MaxBatchRequests)))
	}
	pos := map[string]int{}
	for i, br := range reqs {
		key := strings.ToLower(br.ID)
		if br.ID == "" || br.Method == "" || br.URL == "" {
			return fail(badRequest("BadRequest", "Invalid batch payload format: every request needs an id, a method and a url."))
		}
		if _, dup := pos[key]; dup {
			return fail(badRequest("BadRequest", "Batch request ids must be unique; '"+br.ID+"' is repeated."))
		}
		pos[key] = i
	}
	for _, br := range reqs {
		for _, d := range br.DependsOn {
			if _, ok := pos[strings.ToLower(d)]; !ok {
				return fail(badRequest("BadRequest", "Request '"+br.ID+"' depends on '"+d+"', which is not in the batch."))
			}
		}
	}

	results := make([]*batchResult, len(reqs))
	for done := 0; done < len(reqs); {
		progressed := false
		for i, br := range reqs {
			if results[i] != nil {
				continue
			}
			ready, failed := true, false
			for _, d := range br.DependsOn {
				dr := results[pos[strings.ToLower(d)]]
				if dr == nil {
					ready = false
					break
				}
				if dr.resp.status >= 400 {
					failed = true
				}
			}
			if !ready {
				continue
			}
			results[i] = &batchResult{id: br.ID, resp: s.batchItem(br, failed, base, clientID)}
			done++
			progressed = true
		}
		if !progressed {
			return fail(badRequest("BadRequest", "The dependsOn references in the batch form a cycle."))
		}
	}

	b := make([]byte, 0, 4096)
	b = append(b, `{"responses":[`...)
	for i := len(results) - 1; i >= 0; i-- {
		res := results[i]
		if i < len(results)-1 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, res.id)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(res.resp.status), 10)
		b = append(b, `,"headers":{"Content-Type":`...)
		b = appendString(b, jsonContentType)
		if res.resp.retryAfter != "" {
			b = append(b, `,"Retry-After":`...)
			b = appendString(b, res.resp.retryAfter)
		}
		b = append(b, '}')
		if len(res.resp.body) > 0 {
			b = append(b, `,"body":`...)
			b = append(b, res.resp.body...)
		}
		b = append(b, '}')
	}
	b = append(b, `]}`...)
	return response{status: 200, body: b}
}

func (s *Server) batchItem(br batchRequest, depFailed bool, base, clientID string) response {
	reqID := s.requestID()
	rawURL := strings.TrimPrefix(br.URL, "/")
	p, rawQuery, _ := strings.Cut(rawURL, "?")
	path, err := url.PathUnescape(p)
	if err != nil || strings.Contains(br.URL, "://") {
		resp := s.errorResponse(badRequest("BadRequest", "Invalid request URL '"+br.URL+"': batch urls are relative to the version, e.g. /users."), reqID, clientID)
		s.f.record(LogEntry{Method: br.Method, Path: br.URL, Route: "unknown", Status: resp.status, Batch: true, BatchID: br.ID}, false)
		return resp
	}
	path = "/v1.0/" + path
	if depFailed {
		resp := s.errorResponse(&Fault{Status: 424, Code: "FailedDependency", Message: "The request was not run because a request it depends on failed.", RetryAfter: -1}, reqID, clientID)
		tmpl := "unknown"
		if rt, _, _ := matchRoute(strings.TrimPrefix(path, "/v1.0")); rt != nil {
			tmpl = "/v1.0" + rt.tmpl
		}
		s.f.record(LogEntry{Method: br.Method, Path: path, Query: rawQuery, Route: tmpl, Status: resp.status, Batch: true, BatchID: br.ID}, false)
		return resp
	}
	return s.handle(strings.ToUpper(br.Method), path, rawQuery, base, reqID, clientID, br.ID)
}
