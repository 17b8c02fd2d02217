package collect

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"m365security/shared/graph"
)

const (
	// maxBatchItems is Graph's limit of requests per JSON batch.
	maxBatchItems = 20
	// maxItemRetries bounds retries of one throttled $batch item, as the
	// SDK's retry handler bounds plain requests.
	maxItemRetries = 6
	// maxItemBackoff caps the wait for a throttled item that came without
	// Retry-After.
	maxItemBackoff = 30 * time.Second
)

// batchResult is the final answer to one $batch item.
type batchResult struct {
	Status int
	Body   map[string]any
	// Err is the classified failure when Status is not 2xx (graph.Error, so
	// errors.Is works with the graph sentinels), or why no answer came.
	Err error
}

// batchCall is one GET waiting to go into a batch.
type batchCall struct {
	url      string // relative to the version root, e.g. /groups/{id}/members
	handle   func(batchResult)
	attempts int
}

// batcher sends GETs in JSON batches of up to 20 and retries throttled items
// itself: a batch answers 200 even when items inside it are throttled, so
// the SDK's retry middleware never sees those 429s.
//
// Calls added by a handler (nextLinks) go to the front of the queue, so long
// member lists make progress while first pages still fill the batches; this
// keeps batches full and the number of round trips near the minimum.
type batcher struct {
	r     *reader
	op    string
	front []*batchCall // continuations and retries, sent first
	back  []*batchCall // first requests, in the order added
	spare []*batchCall // independent requests that fill batches last
}

func newBatcher(r *reader, op string) *batcher {
	return &batcher{r: r, op: op}
}

// add queues a GET of url (relative to the version root).
func (b *batcher) add(url string, handle func(batchResult)) {
	b.back = append(b.back, &batchCall{url: url, handle: handle})
}

// follow queues a continuation (a nextLink made relative) ahead of first
// requests.
func (b *batcher) follow(url string, handle func(batchResult)) {
	b.front = append(b.front, &batchCall{url: url, handle: handle})
}

// fill queues a GET that nothing waits on; it fills batches that would
// otherwise go out part-empty while long member lists page.
func (b *batcher) fill(url string, handle func(batchResult)) {
	b.spare = append(b.spare, &batchCall{url: url, handle: handle})
}

func (b *batcher) pending() int { return len(b.front) + len(b.back) + len(b.spare) }

func (b *batcher) take(n int) []*batchCall {
	out := make([]*batchCall, 0, n)
	for len(out) < n && len(b.front) > 0 {
		out = append(out, b.front[0])
		b.front = b.front[1:]
	}
	for len(out) < n && len(b.back) > 0 {
		out = append(out, b.back[0])
		b.back = b.back[1:]
	}
	for len(out) < n && len(b.spare) > 0 {
		out = append(out, b.spare[0])
		b.spare = b.spare[1:]
	}
	return out
}

// run sends everything queued, including what handlers queue meanwhile. Each
// call's handler runs exactly once. It returns an error only when a whole
// batch failed (the envelope itself, after the SDK's retries), after handing
// that error to every call not yet answered.
func (b *batcher) run(ctx context.Context) error {
	var pause time.Duration
	for b.pending() > 0 {
		if pause > 0 {
			// Graph throttles per app and tenant: after a throttled item
			// nothing is sent until its Retry-After has passed.
			if err := sleepCtx(ctx, pause); err != nil {
				b.failAll(nil, wrap(b.op, err))
				return wrap(b.op, err)
			}
			pause = 0
		}
		calls := b.take(maxBatchItems)
		resp, err := b.send(ctx, calls)
		if err != nil {
			b.failAll(calls, err)
			return err
		}
		var retry []*batchCall
		for i, call := range calls {
			item := resp.GetResponseById(strconv.Itoa(i + 1))
			if item == nil || item.GetStatus() == nil {
				call.handle(batchResult{Err: fmt.Errorf("%s: no answer for %s in the batch response", b.op, call.url)})
				continue
			}
			status := int(*item.GetStatus())
			if retriable(status) && call.attempts < maxItemRetries {
				call.attempts++
				pause = max(pause, retryDelay(item.GetHeaders(), call.attempts))
				retry = append(retry, call)
				continue
			}
			call.handle(itemResult(b.op+" "+call.url, status, item.GetBody()))
		}
		b.front = append(retry, b.front...)
	}
	return nil
}

func (b *batcher) failAll(calls []*batchCall, err error) {
	for _, c := range calls {
		c.handle(batchResult{Err: err})
	}
	for _, c := range b.take(b.pending()) {
		c.handle(batchResult{Err: err})
	}
}

// send posts one batch; item ids are the 1-based positions in calls.
//
// It builds the POST itself instead of calling BatchRequest.Send for two
// reasons: Send maps no error type, so a failed envelope would lose Graph's
// error code; and the body goes uncompressed. kiota gzips request bodies by
// default, which Graph accepts but which saves nothing on a few kilobytes of
// GETs and has had retry bugs (kiota-http-go#183).
func (b *batcher) send(ctx context.Context, calls []*batchCall) (msgraphcore.BatchResponse, error) {
	adapter := b.r.c.SDK().GetAdapter()
	req := msgraphcore.NewBatchRequest(adapter)
	for i, call := range calls {
		u, err := url.Parse(b.r.c.BaseURL() + call.url)
		if err != nil {
			return nil, fmt.Errorf("%s: parse %s: %w", b.op, call.url, err)
		}
		info := abstractions.NewRequestInformation()
		info.Method = abstractions.GET
		info.SetUri(*u)
		step, err := req.AddBatchRequestStep(*info)
		if err != nil {
			return nil, fmt.Errorf("%s: add %s to batch: %w", b.op, call.url, err)
		}
		id := strconv.Itoa(i + 1)
		step.SetId(&id)
	}
	info := abstractions.NewRequestInformation()
	info.Method = abstractions.POST
	info.UrlTemplate = "{+baseurl}/$batch"
	info.PathParameters["baseurl"] = adapter.GetBaseUrl()
	if err := info.SetContentFromParsable(ctx, adapter, "application/json", req); err != nil {
		return nil, fmt.Errorf("%s: encode batch: %w", b.op, err)
	}
	info.Headers.TryAdd("Accept", "application/json")
	info.AddRequestOptions([]abstractions.RequestOption{khttp.NewCompressionOptionsReference(false)})
	b.r.sent(len(calls), 1)
	res, err := adapter.Send(ctx, info, msgraphcore.CreateBatchResponseDiscriminator,
		abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return nil, wrap(b.op+": send batch", err)
	}
	resp, ok := res.(msgraphcore.BatchResponse)
	if !ok || resp == nil {
		return nil, fmt.Errorf("%s: send batch: empty response", b.op)
	}
	return resp, nil
}

func retriable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// retryDelay honours the item's Retry-After (seconds or HTTP date) and
// otherwise backs off exponentially from 1 s.
func retryDelay(headers map[string]string, attempt int) time.Duration {
	for k, v := range headers {
		if !strings.EqualFold(k, "Retry-After") {
			continue
		}
		v = strings.TrimSpace(v)
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0)
		}
	}
	return min(time.Second<<(attempt-1), maxItemBackoff)
}

// itemResult turns a batch item into a result, classifying failures from
// Graph's error body.
func itemResult(op string, status int, body map[string]any) batchResult {
	res := batchResult{Status: status, Body: body}
	if status >= 200 && status < 300 {
		return res
	}
	var code, msg string
	if e, ok := body["error"].(map[string]any); ok {
		code, msg = str(e["code"]), str(e["message"])
	}
	res.Err = graph.StatusError(op, status, code, msg)
	return res
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// The msgraphcore batch response holds each item's body as a generic map
// whose leaves are pointers (*string, *bool, *int64) as kiota's JSON parser
// produced them. These helpers read such values. (Floating-point leaves come
// back nil, an msgraph-sdk-go-core quirk; nothing read through a batch here
// is a float.)

func str(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

func boolOf(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case *bool:
		if b != nil {
			return *b, true
		}
	}
	return false, false
}

func timeOfRaw(v any) *time.Time {
	s := str(v)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		// Intune writes 0001-01-01T00:00:00Z for "never".
		return nil
	}
	t = t.UTC()
	return &t
}

// nextLinkOf returns a page body's @odata.nextLink made relative, "" when
// there is none, and an error when it cannot be followed in a batch.
func nextLinkOf(base string, body map[string]any) (string, error) {
	link := str(body["@odata.nextLink"])
	if link == "" {
		return "", nil
	}
	return followable(base, link)
}
