// Package servicebus is the thin Azure Service Bus adapter behind
// queue.Sender. It only sends: in Azure the Functions host receives and
// settles messages for the Service Bus-triggered functions.
package servicebus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"m365security/shared/queue"
)

// Sender sends through one AMQP connection, with one long-lived sender per
// queue.
type Sender struct {
	client *azservicebus.Client

	mu      sync.Mutex
	senders map[string]*azservicebus.Sender
}

var _ queue.Sender = (*Sender)(nil)

// New connects to namespace (an FQDN such as contoso.servicebus.windows.net)
// with cred, typically the app's managed identity.
func New(namespace string, cred azcore.TokenCredential) (*Sender, error) {
	c, err := azservicebus.NewClient(namespace, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("create service bus client for %s: %w", namespace, err)
	}
	return &Sender{client: c, senders: map[string]*azservicebus.Sender{}}, nil
}

func (s *Sender) sender(name string) (*azservicebus.Sender, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if snd, ok := s.senders[name]; ok {
		return snd, nil
	}
	snd, err := s.client.NewSender(name, nil)
	if err != nil {
		return nil, fmt.Errorf("create sender for queue %s: %w", name, err)
	}
	s.senders[name] = snd
	return snd, nil
}

// Send sends msgs in as few batches as fit (usually one, so a notification
// POST is enqueued all or nothing). When they overflow one batch it is sent
// and another started; a failure then may leave earlier batches sent, and the
// caller's retry relies on MessageId duplicate detection. Scheduled messages
// cannot ride in a batch and go one by one.
func (s *Sender) Send(ctx context.Context, name string, msgs ...queue.Message) error {
	snd, err := s.sender(name)
	if err != nil {
		return err
	}
	return sendAll(ctx, name, sdkSender{snd}, msgs)
}

// batch is the part of *azservicebus.MessageBatch that Send uses.
type batch interface {
	AddMessage(m *azservicebus.Message, o *azservicebus.AddMessageOptions) error
	NumMessages() int32
}

// batchSender is the part of *azservicebus.Sender that Send uses, so the
// batching rules can be tested without a namespace.
type batchSender interface {
	NewBatch(ctx context.Context) (batch, error)
	SendBatch(ctx context.Context, b batch) error
	SendOne(ctx context.Context, m *azservicebus.Message) error
}

type sdkSender struct{ s *azservicebus.Sender }

func (a sdkSender) NewBatch(ctx context.Context) (batch, error) { return a.s.NewMessageBatch(ctx, nil) }
func (a sdkSender) SendBatch(ctx context.Context, b batch) error {
	return a.s.SendMessageBatch(ctx, b.(*azservicebus.MessageBatch), nil)
}
func (a sdkSender) SendOne(ctx context.Context, m *azservicebus.Message) error {
	return a.s.SendMessage(ctx, m, nil)
}

func sendAll(ctx context.Context, name string, snd batchSender, msgs []queue.Message) error {
	var cur batch
	flush := func() error {
		if cur == nil || cur.NumMessages() == 0 {
			return nil
		}
		if err := snd.SendBatch(ctx, cur); err != nil {
			return fmt.Errorf("send batch to queue %s: %w", name, err)
		}
		cur = nil
		return nil
	}
	for i := range msgs {
		m := toSDK(msgs[i])
		if m.ScheduledEnqueueTime != nil {
			if err := snd.SendOne(ctx, m); err != nil {
				return fmt.Errorf("send scheduled message to %s: %w", name, err)
			}
			continue
		}
		for {
			if cur == nil {
				b, err := snd.NewBatch(ctx)
				if err != nil {
					return fmt.Errorf("create batch for queue %s: %w", name, err)
				}
				cur = b
			}
			err := cur.AddMessage(m, nil)
			if err == nil {
				break
			}
			if !errors.Is(err, azservicebus.ErrMessageTooLarge) {
				return fmt.Errorf("add message to batch: %w", err)
			}
			if cur.NumMessages() == 0 {
				// Too large even for an empty batch: no retry can send it.
				return fmt.Errorf("message %s does not fit a Service Bus batch: %w", msgs[i].ID, err)
			}
			// The batch is full: send it and put the message in a new one.
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func toSDK(m queue.Message) *azservicebus.Message {
	out := &azservicebus.Message{Body: m.Body, ApplicationProperties: m.Properties}
	if m.ID != "" {
		out.MessageID = &m.ID
	}
	if m.ContentType != "" {
		out.ContentType = &m.ContentType
	}
	if m.Subject != "" {
		out.Subject = &m.Subject
	}
	if m.CorrelationID != "" {
		out.CorrelationID = &m.CorrelationID
	}
	if !m.NotBefore.IsZero() {
		t := m.NotBefore.UTC()
		out.ScheduledEnqueueTime = &t
	}
	return out
}

// Close closes the senders and the connection.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, snd := range s.senders {
		errs = append(errs, snd.Close(ctx))
	}
	errs = append(errs, s.client.Close(ctx))
	return errors.Join(errs...)
}
