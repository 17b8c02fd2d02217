// Package queue is the boundary between the parts that produce work (the
// webhook, the alert poller) and the Service Bus-triggered functions that do
// it. In Azure the sender is Service Bus (queue/servicebus); standalone it is
// an in-process queue with Service Bus's delivery semantics (queue/inprocess).
package queue

import (
	"context"
	"errors"
	"time"
)

// Message is what a producer sends.
type Message struct {
	// ID is the duplicate-detection key: a second message with the same ID
	// inside the queue's detection window is dropped.
	ID            string
	Body          []byte
	ContentType   string
	Subject       string
	CorrelationID string
	Properties    map[string]any
	// NotBefore delays delivery (Service Bus ScheduledEnqueueTime); zero
	// delivers now.
	NotBefore time.Time
}

// Sender sends messages to a named queue.
type Sender interface {
	// Send enqueues msgs durably before returning nil. It returns ErrClosed
	// once the process is shutting down.
	Send(ctx context.Context, queue string, msgs ...Message) error
}

// ErrClosed is returned by Send after shutdown began.
var ErrClosed = errors.New("queue is shutting down")

// ErrUnknownQueue is returned for a queue no function listens on.
var ErrUnknownQueue = errors.New("unknown queue")

// MaxDeliveryCount is the product's Service Bus queues' MaxDeliveryCount, kept
// equal in infra/ and in the in-process queue (a test checks the Bicep).
const MaxDeliveryCount = 10
