package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"m365security/handler/hostmeta"
	"m365security/handler/invoke"
	"m365security/shared/records"
)

// invokeLocal POSTs an envelope to /{function} on the handler's own router,
// the path the host takes, and returns the status and body.
func invokeLocal(ctx context.Context, mux http.Handler, function string, body []byte) (int, []byte) {
	req := httptest.NewRequest(http.MethodPost, "/"+function, bytes.NewReader(body)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Azure-Functions-InvocationId", invoke.NewGUID())
	req.Header.Set("User-Agent", "m365security-standalone/"+version)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// scheduler fires timer functions on their function.json schedules when no
// host does. Like the host's schedule monitor it remembers each function's
// last run (in the store) and runs a missed slot once at start-up, marked
// past due; a function never overlaps itself.
type scheduler struct {
	timers []timerSpec
	mux    http.Handler
	state  records.State
	log    *slog.Logger
	now    func() time.Time

	wg     sync.WaitGroup
	cancel context.CancelFunc
	// running counts invocations in flight, for the shutdown log.
	running atomic.Int32
}

type timerSpec struct {
	fn       hostmeta.Function
	binding  string
	schedule hostmeta.Schedule
	monitor  bool
}

func newScheduler(meta hostmeta.App, mux http.Handler, state records.State, log *slog.Logger, getenv func(string) string) *scheduler {
	sc := &scheduler{mux: mux, state: state, log: log.With("component", "scheduler"), now: time.Now}
	for _, f := range meta.Functions {
		t := f.Trigger()
		if t.Type != hostmeta.TimerTrigger || f.Disabled {
			continue
		}
		// Load validated the schedule already.
		sched, _ := hostmeta.ParseSchedule(hostmeta.Expand(t.Schedule, getenv))
		sc.timers = append(sc.timers, timerSpec{fn: f, binding: t.Name, schedule: sched,
			monitor: t.UseMonitor == nil || *t.UseMonitor})
	}
	return sc
}

func (s *scheduler) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	for _, t := range s.timers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.loop(ctx, t)
		}()
	}
	s.log.Info("scheduler started", "timers", len(s.timers))
}

// stop stops firing and waits for running invocations, up to ctx.
func (s *scheduler) stop(ctx context.Context) {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// The deadline may pass before the waiter above has even run, or
		// together with it (select then picks either): say "still running"
		// only when an invocation is.
		if n := s.running.Load(); n > 0 {
			s.log.Error("timer invocations still running at shutdown deadline", "running", n)
		}
	}
}

func (s *scheduler) loop(ctx context.Context, t timerSpec) {
	state, err := s.state.Timer(ctx, t.fn.Name)
	if err != nil {
		s.log.Error("read timer state", "function", t.fn.Name, "error", err.Error())
	}
	last := state.Last
	now := s.now().UTC()
	if t.monitor && (last.IsZero() || !t.schedule.Next(last).After(now)) {
		// Never run, or a slot was missed while stopped: catch up now.
		last = s.fire(ctx, t, now, last, true)
	}
	for {
		next := t.schedule.Next(s.now())
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		last = s.fire(ctx, t, s.now().UTC(), last, false)
	}
}

// fire runs one invocation to completion; shutdown does not cancel it, it
// is drained.
func (s *scheduler) fire(ctx context.Context, t timerSpec, now, last time.Time, pastDue bool) time.Time {
	body, err := invoke.TimerEnvelope(t.fn.Name, t.binding, now, last, t.schedule.Next(now), pastDue, invoke.NewGUID())
	if err != nil {
		s.log.Error("build timer envelope", "function", t.fn.Name, "error", err.Error())
		return last
	}
	start := time.Now()
	s.running.Add(1)
	status, resp := invokeLocal(context.WithoutCancel(ctx), s.mux, t.fn.Name, body)
	s.running.Add(-1)
	if status/100 != 2 {
		s.log.Error("timer invocation failed", "function", t.fn.Name, "status", status, "response", truncate(string(resp), 500))
	} else {
		s.log.Info("timer invocation done", "function", t.fn.Name, "past_due", pastDue, "duration_ms", time.Since(start).Milliseconds())
	}
	if err := s.state.SetTimer(context.WithoutCancel(ctx), t.fn.Name, records.TimerState{Last: now}); err != nil {
		s.log.Error("record timer state", "function", t.fn.Name, "error", err.Error())
	}
	return now
}
