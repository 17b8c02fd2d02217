// Package inprocess is the standalone queue: messages live in memory and are
// delivered to a callback with Service Bus's peek-lock semantics — at least
// once, DeliveryCount incremented on every delivery, an abandoned message
// immediately available again, and dead-lettering after MaxDeliveryCount.
package inprocess

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"m365security/shared/queue"
)

// Delivery is one delivery attempt of a message.
type Delivery struct {
	Queue          string
	Message        queue.Message
	DeliveryCount  int
	SequenceNumber int64
	EnqueuedTime   time.Time
	LockToken      string
}

// DeadLetter is a message moved to the dead-letter list.
type DeadLetter struct {
	Delivery
	Reason      string
	Description string
	At          time.Time
}

// Deliver processes one delivery. nil completes the message; an error or a
// panic abandons it for redelivery. ctx is cancelled only when Close gives up
// draining.
type Deliver func(ctx context.Context, d Delivery) error

// Options configure a Queue.
type Options struct {
	// Queues lists the queue names that have a consumer; sending elsewhere
	// fails with queue.ErrUnknownQueue.
	Queues []string
	// MaxDeliveryCount defaults to queue.MaxDeliveryCount.
	MaxDeliveryCount int
	// DuplicateWindow drops a message whose ID was sent within it (Service
	// Bus duplicate detection); zero disables detection.
	DuplicateWindow time.Duration
	// Workers is the number of concurrent deliveries (default 4).
	Workers int
	// OnDeadLetter is called when a message is dead-lettered, e.g. to make
	// it durable; it must not block for long.
	OnDeadLetter func(DeadLetter)
	Now          func() time.Time
	Log          *slog.Logger
}

// Queue is an in-memory multi-queue with peek-lock delivery.
type Queue struct {
	opts    Options
	deliver Deliver

	mu       sync.Mutex
	cond     *sync.Cond
	ready    readyHeap
	seq      int64
	seen     map[string]time.Time // queue+"\x00"+id → sent at
	dead     []DeadLetter
	inflight int
	closed   bool
	aborted  bool
	wg       sync.WaitGroup
	known    map[string]bool

	// timer wakes the workers when the earliest delayed message is due;
	// timerDue is what it is armed for (zero when unarmed) and timerGen
	// tells a stale callback from the current one.
	timer    *time.Timer
	timerDue time.Time
	timerGen uint64

	// ctx is given to every delivery; Close cancels it when its own context
	// ends before the queue drained.
	ctx    context.Context
	cancel context.CancelFunc
}

var _ queue.Sender = (*Queue)(nil)

// New starts a queue whose workers call deliver.
func New(deliver Deliver, opts Options) *Queue {
	if opts.MaxDeliveryCount <= 0 {
		opts.MaxDeliveryCount = queue.MaxDeliveryCount
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{opts: opts, deliver: deliver, seen: map[string]time.Time{}, known: map[string]bool{}}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	for _, n := range opts.Queues {
		q.known[n] = true
	}
	q.cond = sync.NewCond(&q.mu)
	for i := 0; i < opts.Workers; i++ {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// Send enqueues messages. A message with an ID already sent to the same queue
// within the duplicate window is accepted and silently dropped, as Service Bus
// does.
func (q *Queue) Send(ctx context.Context, name string, msgs ...queue.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return queue.ErrClosed
	}
	if !q.known[name] {
		return fmt.Errorf("send to %q: %w", name, queue.ErrUnknownQueue)
	}
	now := q.opts.Now()
	q.expireSeen(now)
	for _, m := range msgs {
		if m.ID == "" {
			m.ID = newToken()
		}
		key := name + "\x00" + m.ID
		if q.opts.DuplicateWindow > 0 {
			// The window runs from the first send; a duplicate does not
			// extend it, and an ID seen longer ago is new again.
			if at, dup := q.seen[key]; dup && now.Sub(at) < q.opts.DuplicateWindow {
				q.opts.Log.Debug("duplicate message dropped", "queue", name, "message_id", m.ID)
				continue
			}
			q.seen[key] = now
		}
		q.seq++
		due := now
		if m.NotBefore.After(now) {
			due = m.NotBefore
		}
		heap.Push(&q.ready, &item{d: Delivery{Queue: name, Message: m, SequenceNumber: q.seq, EnqueuedTime: now}, due: due})
	}
	q.wake()
	return nil
}

func (q *Queue) expireSeen(now time.Time) {
	if len(q.seen) < 1024 {
		return
	}
	for k, t := range q.seen {
		if now.Sub(t) > q.opts.DuplicateWindow {
			delete(q.seen, k)
		}
	}
}

// wake signals workers that the heap changed and arms the timer for the next
// delayed message. Callers hold q.mu.
func (q *Queue) wake() {
	q.cond.Broadcast()
	q.armTimer()
}

// armTimer makes sure a timer fires when the earliest delayed message is due.
// It never broadcasts itself: waiting workers that re-arm would otherwise wake
// each other in a loop. Callers hold q.mu.
func (q *Queue) armTimer() {
	if q.ready.Len() == 0 || q.closed {
		return
	}
	due := q.ready[0].due
	wait := due.Sub(q.opts.Now())
	if wait <= 0 {
		return // a worker takes it on its next look
	}
	if !q.timerDue.IsZero() && !q.timerDue.After(due) {
		return // already armed early enough
	}
	if q.timer != nil {
		q.timer.Stop()
	}
	q.timerGen++
	gen := q.timerGen
	q.timerDue = due
	q.timer = time.AfterFunc(wait, func() {
		q.mu.Lock()
		if q.timerGen == gen {
			q.timerDue = time.Time{}
		}
		q.cond.Broadcast()
		q.mu.Unlock()
	})
}

func (q *Queue) work() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		var it *item
		for {
			if q.aborted {
				q.mu.Unlock()
				return
			}
			if q.ready.Len() > 0 && !q.ready[0].due.After(q.opts.Now()) {
				it = heap.Pop(&q.ready).(*item)
				break
			}
			if q.closed && q.ready.Len() == 0 {
				q.mu.Unlock()
				return
			}
			if q.closed {
				// Draining: delayed messages are due now rather than lost.
				// Lowering the root's key keeps the heap ordered.
				q.ready[0].due = q.opts.Now()
				continue
			}
			q.armTimer()
			q.cond.Wait()
		}
		q.inflight++
		q.mu.Unlock()

		it.d.DeliveryCount++
		it.d.LockToken = newToken()
		err := q.safeDeliver(it.d)

		q.mu.Lock()
		switch {
		case err == nil:
			// Completed.
		case q.aborted:
			// Close gave up and cancelled the delivery: the failure says
			// nothing about the message, so it is neither retried nor
			// dead-lettered; it stays counted as undelivered.
			heap.Push(&q.ready, it)
		case it.d.DeliveryCount >= q.opts.MaxDeliveryCount:
			dl := DeadLetter{Delivery: it.d, Reason: "MaxDeliveryCountExceeded",
				Description: fmt.Sprintf("delivered %d times; last error: %v", it.d.DeliveryCount, err), At: q.opts.Now()}
			q.dead = append(q.dead, dl)
			q.opts.Log.Error("message dead-lettered", "queue", it.d.Queue, "message_id", it.d.Message.ID,
				"delivery_count", it.d.DeliveryCount, "error", err.Error())
			if q.opts.OnDeadLetter != nil {
				// Still counted in flight, so Pending and Close see the
				// message until the callback has made it durable.
				q.mu.Unlock()
				q.opts.OnDeadLetter(dl)
				q.mu.Lock()
			}
		default:
			// Abandon: Service Bus makes the message available again at once.
			q.opts.Log.Debug("message abandoned", "queue", it.d.Queue, "message_id", it.d.Message.ID,
				"delivery_count", it.d.DeliveryCount, "error", err.Error())
			it.due = q.opts.Now()
			heap.Push(&q.ready, it)
		}
		q.inflight--
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}

func (q *Queue) safeDeliver(d Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("delivery panicked: %v", p)
		}
	}()
	return q.deliver(q.ctx, d)
}

// DeadLetters returns a copy of the dead-letter list.
func (q *Queue) DeadLetters() []DeadLetter {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]DeadLetter(nil), q.dead...)
}

// Pending counts messages waiting or being delivered.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready.Len() + q.inflight
}

// Close stops accepting messages and drains: every queued message, delayed
// ones included, is delivered (and redelivered as needed) before Close
// returns, unless ctx ends first. Then the context given to running
// deliveries is cancelled, workers stop after their current delivery, and the
// error says how many messages were left undelivered.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	if q.timer != nil {
		q.timer.Stop()
	}
	q.cond.Broadcast()
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		q.mu.Lock()
		left := q.ready.Len()
		q.mu.Unlock()
		if left > 0 {
			// Only after an earlier Close gave up: workers are gone.
			return fmt.Errorf("queue drain was abandoned: %d messages undelivered", left)
		}
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	q.aborted = true
	left := q.ready.Len() + q.inflight
	q.cond.Broadcast()
	q.mu.Unlock()
	q.cancel()
	if left == 0 {
		// The drain finished as ctx ended; nothing was lost.
		return nil
	}
	return fmt.Errorf("queue drain: %d messages undelivered: %w", left, ctx.Err())
}

type item struct {
	d   Delivery
	due time.Time
}

// readyHeap orders by due time, then sequence number, so equal-time messages
// keep their send order.
type readyHeap []*item

func (h readyHeap) Len() int { return len(h) }
func (h readyHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].d.SequenceNumber < h[j].d.SequenceNumber
}
func (h readyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *readyHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
