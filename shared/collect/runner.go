package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"

	"m365security/shared/graph"
	"m365security/shared/posture"
)

// maxConcurrentSources bounds how many sources of one collector are read at
// the same time. Graph throttles per app and tenant, so more parallelism
// buys little and costs 429s.
const maxConcurrentSources = 4

// SourceInfo describes one Graph source: what it reads, with which query,
// and what the tenant and the app registration need for it to succeed.
type SourceInfo struct {
	// Name is the stable source name (a posture.Src* constant).
	Name string
	// Area is the collection area the source belongs to.
	Area posture.Area
	// Path is the Graph v1.0 path read, relative to the version root.
	Path string
	// Query holds the query options sent on the first request, as Graph
	// sees them (e.g. "$select=id,displayName&$top=999").
	Query string
	// PageSize is the $top sent, 0 when the endpoint takes none, and
	// PageSizeSource says where that maximum is documented.
	PageSize       int
	PageSizeSource string
	// Permission is the least-privileged application permission.
	Permission string
	// Licence is the licence the tenant needs; empty when none.
	Licence string
	// DependsOn names sources that must be read successfully first; when
	// one is not, this source is skipped.
	DependsOn []string
	// After names sources that are read first when present, whatever their
	// outcome: their data is used if available.
	After []string
	// DNS marks a source read from DNS, not Graph: it needs no permission
	// and is not in Catalogue.
	DNS bool
}

// source is a SourceInfo with the function that reads it into the
// collector's state S. fetch returns the number of items read; it must
// leave the data it owns in S untouched (nil) when it fails, unless that
// data records its own completeness (posture.Group.Complete).
type source[S any] struct {
	SourceInfo
	fetch func(ctx context.Context, r *reader, st *S) (items int, err error)
}

// reader is the Graph access a fetch function gets: the tenant's client and
// the request counters the runner reports.
type reader struct {
	c *graph.Reader
	// requests counts Graph requests: plain requests and $batch items, the
	// unit Graph throttles on. Retries the SDK middleware makes on its own
	// (429/503/504 of plain requests) are invisible here and not counted.
	requests atomic.Int64
	// roundTrips counts HTTP requests: plain requests and $batch envelopes.
	roundTrips atomic.Int64
}

func (r *reader) sent(requests, roundTrips int) {
	r.requests.Add(int64(requests))
	r.roundTrips.Add(int64(roundTrips))
}

// run reads every source into st and returns their health in declaration
// order. Sources start when their prerequisites are done, at most
// maxConcurrentSources at a time. Declarations must list a source after
// everything it waits for; the consistency tests check that.
func run[S any](ctx context.Context, c *graph.Reader, log *slog.Logger, srcs []source[S], st *S) posture.Sources {
	index := make(map[string]int, len(srcs))
	for i, s := range srcs {
		index[s.Name] = i
	}
	out := make(posture.Sources, len(srcs))
	done := make([]chan struct{}, len(srcs))
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, maxConcurrentSources)
	var wg sync.WaitGroup
	for i := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			out[i] = runSource(ctx, c, log, srcs[i], st, sem, func(name string) (posture.Source, bool) {
				j, ok := index[name]
				if !ok || j >= i {
					// Only earlier sources can be waited for, so the
					// declarations can never deadlock.
					return posture.Source{}, false
				}
				select {
				case <-done[j]:
				case <-ctx.Done():
				}
				select {
				case <-done[j]:
					return out[j], true
				default:
					return posture.Source{}, false
				}
			})
		}()
	}
	wg.Wait()
	return out
}

// runSource waits for the source's prerequisites, then reads it.
func runSource[S any](ctx context.Context, c *graph.Reader, log *slog.Logger, s source[S], st *S, sem chan struct{}, wait func(string) (posture.Source, bool)) posture.Source {
	res := posture.Source{Name: s.Name, Path: s.Path}
	deps := make([]posture.Source, len(s.DependsOn))
	known := make([]bool, len(s.DependsOn))
	for _, name := range s.After {
		wait(name)
	}
	for i, name := range s.DependsOn {
		deps[i], known[i] = wait(name)
	}
	// A cancelled run reports what was not read as cancelled, not as
	// skipped because of a prerequisite the cancellation cut short.
	if err := ctx.Err(); err != nil {
		res.Status, res.Reason = classify(fmt.Errorf("read %s: %w", s.Name, err))
		logSource(ctx, log, res, 0)
		return res
	}
	for i, name := range s.DependsOn {
		switch {
		case !known[i]:
			res.Status, res.Reason = posture.SourceSkipped, "prerequisite "+name+" is not declared before it"
		case !deps[i].OK():
			res.Status, res.Reason = posture.SourceSkipped, "prerequisite "+name+" is "+string(deps[i].Status)
		default:
			continue
		}
		logSource(ctx, log, res, 0)
		return res
	}
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
		res.Status, res.Reason = classify(fmt.Errorf("wait for a free slot: %w", ctx.Err()))
		logSource(ctx, log, res, 0)
		return res
	}
	return readSource(ctx, c, log, s, st)
}

// readSource calls the fetch function, recovering a panic into a failed
// source so one broken converter cannot take the whole collection down.
func readSource[S any](ctx context.Context, c *graph.Reader, log *slog.Logger, s source[S], st *S) (res posture.Source) {
	r := &reader{c: c}
	start := time.Now()
	res = posture.Source{Name: s.Name, Path: s.Path}
	defer func() {
		if p := recover(); p != nil {
			res.Status, res.Reason = posture.SourceFailed, fmt.Sprintf("panic: %v", p)
			log.LogAttrs(ctx, slog.LevelError, "graph source panicked",
				slog.String("source", s.Name), slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
		}
		res.Requests = int(r.requests.Load())
		res.Duration = posture.MillisOf(time.Since(start))
		logSource(ctx, log, res, int(r.roundTrips.Load()))
	}()
	items, err := s.fetch(ctx, r, st)
	res.Items = items
	var note *okWithNote
	if errors.As(err, &note) {
		res.Status, res.Reason = posture.SourceOK, note.note
		return res
	}
	res.Status, res.Reason = classify(err)
	// The catalogue knows which licence the source needs; say it, since
	// Graph's wording rarely names the product to buy.
	if res.Status == posture.SourceNotLicensed && s.Licence != "" {
		res.Reason = "requires " + s.Licence + ": " + res.Reason
	}
	return res
}

// Classify is classify for the signal readers' callers: a Graph error as a
// source status and a reason fit for collection health.
func Classify(err error) (posture.SourceStatus, string) { return classify(err) }

// classify turns a collection error, classified in Graph's terms by
// shared/graph, into a source status and a reason fit for reports: it names
// the failure, never a token or a request body.
func classify(err error) (posture.SourceStatus, string) {
	var ge *graph.Error
	switch {
	case err == nil:
		return posture.SourceOK, ""
	case errors.Is(err, graph.ErrNotLicensed):
		return posture.SourceNotLicensed, err.Error()
	case errors.Is(err, graph.ErrForbidden):
		return posture.SourceForbidden, err.Error()
	case errors.Is(err, graph.ErrThrottled):
		return posture.SourceThrottled, err.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return posture.SourceFailed, "cancelled: " + err.Error()
	case errors.As(err, &ge) && (ge.Status == http.StatusServiceUnavailable || ge.Status == http.StatusGatewayTimeout):
		// Graph answers an overloaded backend with 503/504 and Retry-After;
		// still failing after the retries, that is throttling to the reader
		// of collection health (posture.SourceThrottled: "429/503").
		return posture.SourceThrottled, err.Error()
	}
	return posture.SourceFailed, err.Error()
}

// okWithNote is what a fetch returns when it read its source completely but
// has something to say about the data; the runner records the source as ok
// with the note as its reason.
type okWithNote struct{ note string }

func (e *okWithNote) Error() string { return e.note }

// logSource writes the one summary line per source. Not-licensed and
// skipped are expected states of a tenant, so they log at Info; a missing
// permission or throttling is retryable configuration or load (Warn);
// anything else is an Error.
func logSource(ctx context.Context, log *slog.Logger, s posture.Source, roundTrips int) {
	level := slog.LevelInfo
	switch s.Status {
	case posture.SourceForbidden, posture.SourceThrottled:
		level = slog.LevelWarn
	case posture.SourceFailed:
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("source", s.Name),
		slog.String("status", string(s.Status)),
		slog.Int("items", s.Items),
		slog.Int("requests", s.Requests),
		slog.Int("http_requests", roundTrips),
		slog.Int64("duration_ms", int64(s.Duration)),
	}
	if s.Reason != "" {
		attrs = append(attrs, slog.String("reason", s.Reason))
	}
	log.LogAttrs(ctx, level, "graph source read", attrs...)
}

// collectorLog names the collector on every line; a nil logger discards.
func collectorLog(log *slog.Logger, area posture.Area) *slog.Logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return log.With(slog.String("collector", string(area)))
}

// wrap classifies an error from an SDK call. graph.Wrap handles Graph's
// ODataError; calls without an error mapping (the $batch envelope) fail
// with a plain kiota ApiError, which still carries the HTTP status.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var api *abstractions.ApiError
	if !isODataError(err) && errors.As(err, &api) && api.ResponseStatusCode != 0 {
		return graph.StatusError(op, api.ResponseStatusCode, "", api.Message)
	}
	return graph.Wrap(op, err)
}
