package servicebus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/stretchr/testify/require"

	"m365security/shared/queue"
)

// The adapter must stay a drop-in for the in-process queue. There is no
// emulator, so nothing here connects.
var _ queue.Sender = (*Sender)(nil)

// fakeBatch holds up to max messages, like a batch holds up to its size.
type fakeBatch struct {
	max  int
	msgs []*azservicebus.Message
}

func (b *fakeBatch) AddMessage(m *azservicebus.Message, _ *azservicebus.AddMessageOptions) error {
	if len(m.Body) > 100 || len(b.msgs) >= b.max {
		return azservicebus.ErrMessageTooLarge
	}
	b.msgs = append(b.msgs, m)
	return nil
}

func (b *fakeBatch) NumMessages() int32 { return int32(len(b.msgs)) }

// fakeSender records what would have gone over the wire.
type fakeSender struct {
	perBatch  int
	batches   [][]string
	singles   []string
	failBatch error
	failNew   error
}

var _ batchSender = (*fakeSender)(nil)

func (s *fakeSender) NewBatch(context.Context) (batch, error) {
	if s.failNew != nil {
		return nil, s.failNew
	}
	return &fakeBatch{max: s.perBatch}, nil
}

func (s *fakeSender) SendBatch(_ context.Context, b batch) error {
	if s.failBatch != nil {
		return s.failBatch
	}
	var ids []string
	for _, m := range b.(*fakeBatch).msgs {
		ids = append(ids, *m.MessageID)
	}
	s.batches = append(s.batches, ids)
	return nil
}

func (s *fakeSender) SendOne(_ context.Context, m *azservicebus.Message) error {
	s.singles = append(s.singles, *m.MessageID)
	return nil
}

func ids(n int) []queue.Message {
	out := make([]queue.Message, n)
	for i := range out {
		out[i] = queue.Message{ID: string(rune('a' + i)), Body: []byte("{}")}
	}
	return out
}

func TestSendAll(t *testing.T) {
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		perBatch    int
		msgs        []queue.Message
		failBatch   error
		failNew     error
		wantBatches [][]string
		wantSingles []string
		wantErr     string
	}{
		{
			name: "messages that fit go in one batch", perBatch: 10, msgs: ids(3),
			wantBatches: [][]string{{"a", "b", "c"}},
		},
		{
			name: "messages that overflow a batch go in several, in order", perBatch: 2, msgs: ids(5),
			wantBatches: [][]string{{"a", "b"}, {"c", "d"}, {"e"}},
		},
		{
			name: "scheduled messages are sent one by one", perBatch: 10,
			msgs:        []queue.Message{{ID: "now", Body: []byte("{}")}, {ID: "later", Body: []byte("{}"), NotBefore: later}},
			wantBatches: [][]string{{"now"}}, wantSingles: []string{"later"},
		},
		{
			name: "only scheduled messages send no batch", perBatch: 10,
			msgs:        []queue.Message{{ID: "later", Body: []byte("{}"), NotBefore: later}},
			wantSingles: []string{"later"},
		},
		{
			name: "no messages send nothing", perBatch: 10,
		},
		{
			name: "a message too large for an empty batch is refused", perBatch: 10,
			msgs:    []queue.Message{{ID: "huge", Body: make([]byte, 101)}},
			wantErr: "message huge does not fit a Service Bus batch",
		},
		{
			name: "a failed batch send is reported with the queue", perBatch: 10, msgs: ids(1),
			failBatch: errors.New("amqp link detached"),
			wantErr:   "send batch to queue notifications: amqp link detached",
		},
		{
			name: "a batch that cannot be created is reported", perBatch: 10, msgs: ids(1),
			failNew: errors.New("unauthorized"),
			wantErr: "create batch for queue notifications: unauthorized",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeSender{perBatch: tc.perBatch, failBatch: tc.failBatch, failNew: tc.failNew}
			err := sendAll(context.Background(), "notifications", s, tc.msgs)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantBatches, s.batches)
			require.Equal(t, tc.wantSingles, s.singles)
		})
	}
}

func TestToSDK(t *testing.T) {
	t.Run("every field maps to its Service Bus property", func(t *testing.T) {
		nb := time.Date(2030, 1, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
		m := toSDK(queue.Message{ID: "id-1", Body: []byte(`{"a":1}`), ContentType: "application/json",
			Subject: "change", CorrelationID: "c-1", Properties: map[string]any{"attempt": 2}, NotBefore: nb})
		require.Equal(t, `{"a":1}`, string(m.Body))
		require.Equal(t, "id-1", *m.MessageID)
		require.Equal(t, "application/json", *m.ContentType)
		require.Equal(t, "change", *m.Subject)
		require.Equal(t, "c-1", *m.CorrelationID)
		require.Equal(t, map[string]any{"attempt": 2}, m.ApplicationProperties)
		require.Equal(t, time.Date(2030, 1, 1, 11, 0, 0, 0, time.UTC), *m.ScheduledEnqueueTime)
	})
	t.Run("empty fields stay unset so Service Bus applies its defaults", func(t *testing.T) {
		m := toSDK(queue.Message{Body: []byte("x")})
		require.Nil(t, m.MessageID)
		require.Nil(t, m.ContentType)
		require.Nil(t, m.Subject)
		require.Nil(t, m.CorrelationID)
		require.Nil(t, m.ScheduledEnqueueTime)
	})
}
