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

// Deliver processes one delivery. nil completes the message; an error
// abandons it for redelivery.
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
	wg       sync.WaitGroup
	known    map[string]bool
	timer    *time.Timer
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
			if _, dup := q.seen[key]; dup {
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

// wake signals workers and arms a timer for the next delayed message.
func (q *Queue) wake() {
	q.cond.Broadcast()
	if q.ready.Len() == 0 {
		return
	}
	wait := q.ready[0].due.Sub(q.opts.Now())
	if wait <= 0 {
		return
	}
	if q.timer != nil {
		q.timer.Stop()
	}
	q.timer = time.AfterFunc(wait, func() {
		q.mu.Lock()
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
				q.ready[0].due = q.opts.Now()
				continue
			}
			if q.ready.Len() > 0 {
				q.wake()
			}
			q.cond.Wait()
		}
		q.inflight++
		q.mu.Unlock()

		it.d.DeliveryCount++
		it.d.LockToken = newToken()
		err := q.safeDeliver(it.d)

		q.mu.Lock()
		q.inflight--
		switch {
		case err == nil:
			// Completed.
		case it.d.DeliveryCount >= q.opts.MaxDeliveryCount:
			dl := DeadLetter{Delivery: it.d, Reason: "MaxDeliveryCountExceeded",
				Description: fmt.Sprintf("delivered %d times; last error: %v", it.d.DeliveryCount, err), At: q.opts.Now()}
			q.dead = append(q.dead, dl)
			q.opts.Log.Error("message dead-lettered", "queue", it.d.Queue, "message_id", it.d.Message.ID,
				"delivery_count", it.d.DeliveryCount, "error", err.Error())
			if q.opts.OnDeadLetter != nil {
				q.mu.Unlock()
				q.opts.OnDeadLetter(dl)
				q.mu.Lock()
			}
		default:
			// Abandon: Service Bus makes the message available again at once.
			it.due = q.opts.Now()
			heap.Push(&q.ready, it)
		}
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
	return q.deliver(context.Background(), d)
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
// returns, unless ctx ends first, in which case the error says how many were
// left undelivered.
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
		return nil
	case <-ctx.Done():
		return fmt.Errorf("queue drain: %d messages undelivered: %w", q.Pending(), ctx.Err())
	}
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
