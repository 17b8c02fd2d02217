package inprocess_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/queue"
	"m365security/shared/queue/inprocess"
)

// wait is how long a test waits for something that should happen at once.
// It only bounds a hang; nothing asserts it.
const wait = 10 * time.Second

// recorder collects deliveries and decides each one's outcome.
type recorder struct {
	mu         sync.Mutex
	deliveries []inprocess.Delivery
	ch         chan inprocess.Delivery
	outcome    func(d inprocess.Delivery) error
}

func newRecorder(outcome func(inprocess.Delivery) error) *recorder {
	if outcome == nil {
		outcome = func(inprocess.Delivery) error { return nil }
	}
	return &recorder{ch: make(chan inprocess.Delivery, 10000), outcome: outcome}
}

func (r *recorder) deliver(_ context.Context, d inprocess.Delivery) error {
	r.mu.Lock()
	r.deliveries = append(r.deliveries, d)
	r.mu.Unlock()
	defer func() { r.ch <- d }()
	return r.outcome(d)
}

func (r *recorder) all() []inprocess.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]inprocess.Delivery(nil), r.deliveries...)
}

// next waits for the next delivery.
func (r *recorder) next(tb testing.TB) inprocess.Delivery {
	tb.Helper()
	select {
	case d := <-r.ch:
		return d
	case <-time.After(wait):
		require.FailNow(tb, "no delivery")
		return inprocess.Delivery{}
	}
}

// byID groups delivery counts per message id, in delivery order.
func byID(ds []inprocess.Delivery) map[string][]int {
	out := map[string][]int{}
	for _, d := range ds {
		out[d.Message.ID] = append(out[d.Message.ID], d.DeliveryCount)
	}
	return out
}

func newTestQueue(tb testing.TB, deliver inprocess.Deliver, opts inprocess.Options) *inprocess.Queue {
	tb.Helper()
	if opts.Queues == nil {
		opts.Queues = []string{"notifications"}
	}
	q := inprocess.New(deliver, opts)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = q.Close(ctx)
	})
	return q
}

func mustClose(tb testing.TB, q *inprocess.Queue) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(tb, q.Close(ctx))
}

func msgs(prefix string, n int) []queue.Message {
	out := make([]queue.Message, n)
	for i := range out {
		out[i] = queue.Message{ID: fmt.Sprintf("%s-%d", prefix, i), Body: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	return out
}

// fakeClock is a settable clock for duplicate-detection windows.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestDeliveryOutcomes(t *testing.T) {
	tests := []struct {
		name string
		// fail reports whether delivery number n (from 1) of a message fails,
		// and how: an error or a panic.
		fail           func(n int) error
		maxDelivery    int
		wantCounts     []int
		wantDeadLetter bool
		wantDescr      string
	}{
		{
			name:       "a message that succeeds is delivered once with DeliveryCount 1",
			fail:       func(int) error { return nil },
			wantCounts: []int{1},
		},
		{
			name: "a message failing twice then succeeding is completed on delivery 3",
			fail: func(n int) error {
				if n < 3 {
					return errors.New("transient")
				}
				return nil
			},
			wantCounts: []int{1, 2, 3},
		},
		{
			name:           "a message failing every time is dead-lettered after MaxDeliveryCount",
			fail:           func(int) error { return errors.New("graph says no") },
			maxDelivery:    4,
			wantCounts:     []int{1, 2, 3, 4},
			wantDeadLetter: true,
			wantDescr:      "delivered 4 times; last error: graph says no",
		},
		{
			name:           "MaxDeliveryCount defaults to the product's queue setting",
			fail:           func(int) error { return errors.New("always") },
			wantCounts:     []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			wantDeadLetter: true,
		},
		{
			name:           "MaxDeliveryCount 1 dead-letters on the first failure",
			fail:           func(int) error { return errors.New("once") },
			maxDelivery:    1,
			wantCounts:     []int{1},
			wantDeadLetter: true,
		},
		{
			name: "a panicking delivery counts as a failure and is redelivered",
			fail: func(n int) error {
				if n == 1 {
					panic("boom")
				}
				return nil
			},
			wantCounts: []int{1, 2},
		},
		{
			name:           "a message panicking every time is dead-lettered",
			fail:           func(int) error { panic("boom") },
			maxDelivery:    2,
			wantCounts:     []int{1, 2},
			wantDeadLetter: true,
			wantDescr:      "delivered 2 times; last error: delivery panicked: boom",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(func(d inprocess.Delivery) error { return tc.fail(d.DeliveryCount) })
			var dlMu sync.Mutex
			var dls []inprocess.DeadLetter
			q := newTestQueue(t, rec.deliver, inprocess.Options{
				MaxDeliveryCount: tc.maxDelivery,
				OnDeadLetter: func(dl inprocess.DeadLetter) {
					dlMu.Lock()
					dls = append(dls, dl)
					dlMu.Unlock()
				},
			})
			require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "m-1", Body: []byte(`{}`)}))
			for range tc.wantCounts {
				rec.next(t)
			}
			// Close drains: once it returns, no further delivery can happen.
			mustClose(t, q)

			got := rec.all()
			require.Equal(t, map[string][]int{"m-1": tc.wantCounts}, byID(got))
			tokens := map[string]bool{}
			for _, d := range got {
				require.Equal(t, "notifications", d.Queue)
				require.Equal(t, int64(1), d.SequenceNumber, "redelivery keeps the sequence number")
				require.NotEmpty(t, d.LockToken)
				tokens[d.LockToken] = true
			}
			require.Len(t, tokens, len(got), "every delivery gets a new lock token")
			require.Zero(t, q.Pending())

			dlMu.Lock()
			defer dlMu.Unlock()
			if !tc.wantDeadLetter {
				require.Empty(t, dls)
				require.Empty(t, q.DeadLetters())
				return
			}
			require.Len(t, dls, 1, "OnDeadLetter is called exactly once")
			require.Equal(t, dls, q.DeadLetters())
			dl := dls[0]
			require.Equal(t, "MaxDeliveryCountExceeded", dl.Reason)
			require.Equal(t, tc.wantCounts[len(tc.wantCounts)-1], dl.DeliveryCount)
			require.Equal(t, "m-1", dl.Message.ID)
			require.False(t, dl.At.IsZero())
			if tc.wantDescr != "" {
				require.Equal(t, tc.wantDescr, dl.Description)
			}
		})
	}
}

func TestEveryMessageIsDeliveredAtLeastOnce(t *testing.T) {
	rec := newRecorder(nil)
	q := newTestQueue(t, rec.deliver, inprocess.Options{Workers: 1})
	before := time.Now()
	sent := msgs("m", 5)
	sent[0].ContentType, sent[0].Subject, sent[0].CorrelationID = "application/json", "change", "corr-1"
	sent[0].Properties = map[string]any{"attempt": 1}
	require.NoError(t, q.Send(context.Background(), "notifications", sent...))
	mustClose(t, q)

	got := rec.all()
	require.Len(t, got, 5)
	seqs := map[int64]bool{}
	for i, d := range got {
		require.Equal(t, sent[i], d.Message, "messages keep their send order and content")
		require.Equal(t, 1, d.DeliveryCount)
		require.False(t, d.EnqueuedTime.Before(before))
		seqs[d.SequenceNumber] = true
	}
	require.Len(t, seqs, 5, "sequence numbers are unique")
}

func TestMessagesWithoutIDGetOne(t *testing.T) {
	rec := newRecorder(nil)
	q := newTestQueue(t, rec.deliver, inprocess.Options{DuplicateWindow: time.Hour})
	require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{Body: []byte("a")}, queue.Message{Body: []byte("b")}))
	mustClose(t, q)
	got := rec.all()
	require.Len(t, got, 2, "two id-less messages are not duplicates of each other")
	require.NotEmpty(t, got[0].Message.ID)
	require.NotEqual(t, got[0].Message.ID, got[1].Message.ID)
}

func TestDuplicateDetection(t *testing.T) {
	start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		window time.Duration
		// steps: send to queue, then advance the clock.
		steps []struct {
			queue, id string
			advance   time.Duration
		}
		want map[string]int // "queue/id" → deliveries
	}{
		{
			name:   "a same-ID message within the window is dropped",
			window: 10 * time.Minute,
			steps: []struct {
				queue, id string
				advance   time.Duration
			}{{"notifications", "a", time.Minute}, {"notifications", "a", 0}},
			want: map[string]int{"notifications/a": 1},
		},
		{
			name:   "a same-ID message after the window is delivered again",
			window: 10 * time.Minute,
			steps: []struct {
				queue, id string
				advance   time.Duration
			}{{"notifications", "a", 11 * time.Minute}, {"notifications", "a", 0}},
			want: map[string]int{"notifications/a": 2},
		},
		{
			name:   "a duplicate does not extend the window",
			window: 10 * time.Minute,
			steps: []struct {
				queue, id string
				advance   time.Duration
			}{{"notifications", "a", 6 * time.Minute}, {"notifications", "a", 6 * time.Minute}, {"notifications", "a", 0}},
			want: map[string]int{"notifications/a": 2},
		},
		{
			name:   "the same ID on another queue is not a duplicate",
			window: 10 * time.Minute,
			steps: []struct {
				queue, id string
				advance   time.Duration
			}{{"notifications", "a", 0}, {"alerts", "a", 0}},
			want: map[string]int{"notifications/a": 1, "alerts/a": 1},
		},
		{
			name:   "a zero window disables detection",
			window: 0,
			steps: []struct {
				queue, id string
				advance   time.Duration
			}{{"notifications", "a", 0}, {"notifications", "a", 0}},
			want: map[string]int{"notifications/a": 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: start}
			rec := newRecorder(nil)
			q := newTestQueue(t, rec.deliver, inprocess.Options{
				Queues: []string{"notifications", "alerts"}, DuplicateWindow: tc.window, Now: clock.Now,
			})
			for _, s := range tc.steps {
				require.NoError(t, q.Send(context.Background(), s.queue, queue.Message{ID: s.id}), "a duplicate is accepted, then dropped")
				clock.Advance(s.advance)
			}
			mustClose(t, q)
			got := map[string]int{}
			for _, d := range rec.all() {
				got[d.Queue+"/"+d.Message.ID]++
			}
			require.Equal(t, tc.want, got)
		})
	}

	t.Run("duplicates inside one Send are dropped too", func(t *testing.T) {
		rec := newRecorder(nil)
		q := newTestQueue(t, rec.deliver, inprocess.Options{DuplicateWindow: time.Hour})
		require.NoError(t, q.Send(context.Background(), "notifications",
			queue.Message{ID: "x", Body: []byte("first")}, queue.Message{ID: "x", Body: []byte("second")}))
		mustClose(t, q)
		got := rec.all()
		require.Len(t, got, 1)
		require.Equal(t, "first", string(got[0].Message.Body), "the first copy wins")
	})
}

func TestSendErrors(t *testing.T) {
	t.Run("an unknown queue is refused", func(t *testing.T) {
		q := newTestQueue(t, newRecorder(nil).deliver, inprocess.Options{})
		err := q.Send(context.Background(), "nope", queue.Message{ID: "a"})
		require.ErrorIs(t, err, queue.ErrUnknownQueue)
		require.ErrorContains(t, err, `"nope"`)
	})
	t.Run("Send after Close is refused", func(t *testing.T) {
		rec := newRecorder(nil)
		q := newTestQueue(t, rec.deliver, inprocess.Options{})
		mustClose(t, q)
		require.ErrorIs(t, q.Send(context.Background(), "notifications", queue.Message{ID: "a"}), queue.ErrClosed)
		require.Empty(t, rec.all())
	})
	t.Run("a cancelled context is refused", func(t *testing.T) {
		rec := newRecorder(nil)
		q := newTestQueue(t, rec.deliver, inprocess.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, q.Send(ctx, "notifications", queue.Message{ID: "a"}), context.Canceled)
		mustClose(t, q)
		require.Empty(t, rec.all())
	})
}

func TestDelayedMessages(t *testing.T) {
	t.Run("a delayed message is not delivered before NotBefore", func(t *testing.T) {
		rec := newRecorder(nil)
		q := newTestQueue(t, rec.deliver, inprocess.Options{})
		notBefore := time.Now().Add(150 * time.Millisecond)
		require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "later", NotBefore: notBefore}))
		rec.next(t)
		require.False(t, time.Now().Before(notBefore))
	})

	t.Run("workers wait quietly for a delayed message", func(t *testing.T) {
		// Waiting workers used to wake each other in a loop; count clock
		// reads while four workers wait for one delayed message.
		var reads atomic.Int64
		now := func() time.Time { reads.Add(1); return time.Now() }
		rec := newRecorder(nil)
		q := newTestQueue(t, rec.deliver, inprocess.Options{Workers: 4, Now: now})
		require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "later", NotBefore: time.Now().Add(300 * time.Millisecond)}))
		rec.next(t)
		require.Less(t, reads.Load(), int64(200), "workers spun while waiting")
	})

	t.Run("an earlier delayed message sent second is not held back by a later one", func(t *testing.T) {
		rec := newRecorder(nil)
		q := newTestQueue(t, rec.deliver, inprocess.Options{Workers: 2})
		far := time.Now().Add(time.Hour)
		require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "far", NotBefore: far}))
		require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "soon", NotBefore: time.Now().Add(50 * time.Millisecond)}))
		require.Equal(t, "soon", rec.next(t).Message.ID)
		require.Eventually(t, func() bool { return q.Pending() == 1 }, wait, time.Millisecond, "the far message still waits")
		mustClose(t, q)
		require.Equal(t, map[string][]int{"soon": {1}, "far": {1}}, byID(rec.all()), "Close delivers the far one")
	})

	t.Run("an immediate message overtakes a delayed one", func(t *testing.T) {
		rec := newRecorder(nil)
		q := newTestQueue(t, rec.deliver, inprocess.Options{Workers: 1})
		require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "delayed", NotBefore: time.Now().Add(time.Hour)}))
		require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "now"}))
		require.Equal(t, "now", rec.next(t).Message.ID)
	})
}

func TestCloseDrains(t *testing.T) {
	gate := make(chan struct{})
	started := make(chan struct{}, 1)
	rec := newRecorder(func(d inprocess.Delivery) error {
		if d.Message.ID == "m-0" && d.DeliveryCount == 1 {
			started <- struct{}{}
			<-gate
			return errors.New("fail once while closing")
		}
		return nil
	})
	q := newTestQueue(t, rec.deliver, inprocess.Options{Workers: 1})
	require.NoError(t, q.Send(context.Background(), "notifications", msgs("m", 3)...))
	require.NoError(t, q.Send(context.Background(), "notifications", queue.Message{ID: "delayed", NotBefore: time.Now().Add(time.Hour)}))
	<-started
	require.Equal(t, 4, q.Pending(), "one in flight, three waiting")

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		closed <- q.Close(ctx)
	}()
	// Probe an unknown queue: before Close it answers ErrUnknownQueue, after
	// it ErrClosed, and either way nothing is enqueued.
	require.Eventually(t, func() bool {
		return errors.Is(q.Send(context.Background(), "probe", queue.Message{ID: "late"}), queue.ErrClosed)
	}, wait, time.Millisecond, "Send is refused once Close began")
	close(gate)

	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(wait):
		require.FailNow(t, "Close did not return")
	}
	require.Equal(t, map[string][]int{"m-0": {1, 2}, "m-1": {1}, "m-2": {1}, "delayed": {1}}, byID(rec.all()),
		"queued, delayed and abandoned-while-closing messages are all delivered")
	require.Zero(t, q.Pending())
}

func TestCloseWithExpiredContext(t *testing.T) {
	started := make(chan struct{}, 1)
	released := make(chan error, 1)
	var cancelled error
	rec := newRecorder(func(inprocess.Delivery) error { return cancelled })
	deliver := func(ctx context.Context, d inprocess.Delivery) error {
		started <- struct{}{}
		<-ctx.Done() // a delivery that only stops when told to, and then fails
		cancelled = ctx.Err()
		released <- cancelled
		return rec.deliver(ctx, d)
	}
	var dead atomic.Int64
	q := newTestQueue(t, deliver, inprocess.Options{Workers: 1, OnDeadLetter: func(inprocess.DeadLetter) { dead.Add(1) }})
	require.NoError(t, q.Send(context.Background(), "notifications", msgs("m", 3)...))
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := q.Close(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "3 messages undelivered")

	select {
	case err := <-released:
		require.ErrorIs(t, err, context.Canceled, "the running delivery is cancelled")
	case <-time.After(wait):
		require.FailNow(t, "the running delivery was not cancelled")
	}
	// Draining stopped: the one delivery ended, and its cancellation was
	// not held against the message.
	require.Eventually(t, func() bool { return len(rec.all()) == 1 }, wait, time.Millisecond)
	require.Equal(t, 3, q.Pending())
	require.Empty(t, q.DeadLetters())
	require.Zero(t, dead.Load())

	// A second Close still owns up to the loss.
	require.ErrorContains(t, q.Close(context.Background()), "3 messages undelivered")
}

func TestCloseOfAnIdleQueue(t *testing.T) {
	q := newTestQueue(t, newRecorder(nil).deliver, inprocess.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, q.Close(ctx), "nothing is undelivered, so an ended context is no failure")
	require.NoError(t, q.Close(context.Background()), "Close is idempotent")
}

func TestConcurrentDelivery(t *testing.T) {
	tests := []struct {
		name      string
		failFirst bool
		wantCount []int
	}{
		{"all succeed: every message delivered exactly once", false, []int{1}},
		{"all fail once: every message completed on its second delivery", true, []int{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const n = 300
			var running, peak atomic.Int64
			rec := newRecorder(func(d inprocess.Delivery) error {
				r := running.Add(1)
				defer running.Add(-1)
				for {
					p := peak.Load()
					if r <= p || peak.CompareAndSwap(p, r) {
						break
					}
				}
				if tc.failFirst && d.DeliveryCount == 1 {
					return errors.New("first try fails")
				}
				return nil
			})
			q := newTestQueue(t, rec.deliver, inprocess.Options{Workers: 4, DuplicateWindow: time.Hour})
			// Three producers send concurrently with the deliveries.
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for p := 0; p < 3; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, m := range msgs(fmt.Sprintf("p%d", p), n/3) {
						if err := q.Send(context.Background(), "notifications", m); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			mustClose(t, q)

			got := byID(rec.all())
			require.Len(t, got, n)
			for id, counts := range got {
				require.Equal(t, tc.wantCount, counts, id)
			}
			require.LessOrEqual(t, peak.Load(), int64(4), "never more deliveries at once than workers")
			require.Empty(t, q.DeadLetters())
		})
	}
}
