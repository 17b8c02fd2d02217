package signals

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGraph holds subscriptions as Graph would for one app.
type fakeGraph struct {
	mu           sync.Mutex
	subs         map[string]Subscription
	next         int
	creates      int
	renews       int
	deletes      int
	reauthErr    error
	listErr      error
	reauthorized []string
}

func (g *fakeGraph) Create(_ context.Context, _ string, r SubscriptionRequest) (Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.subs == nil {
		g.subs = map[string]Subscription{}
	}
	g.next++
	g.creates++
	s := Subscription{ID: fmt.Sprintf("sub-%d", g.next), Resource: r.Resource, ChangeType: r.ChangeType,
		NotificationURL: r.NotificationURL, LifecycleURL: r.LifecycleURL, Expiration: r.Expiration}
	g.subs[s.ID] = s
	return s, nil
}

func (g *fakeGraph) List(context.Context, string) ([]Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Subscription
	for _, s := range g.subs {
		out = append(out, s)
	}
	return out, g.listErr
}

func (g *fakeGraph) Renew(_ context.Context, _, id string, exp time.Time) (Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.subs[id]
	if !ok {
		return s, errors.New("404")
	}
	g.renews++
	s.Expiration = exp
	g.subs[id] = s
	return s, nil
}

func (g *fakeGraph) Reauthorize(_ context.Context, _, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reauthorized = append(g.reauthorized, id)
	return g.reauthErr
}

func (g *fakeGraph) Delete(_ context.Context, _, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deletes++
	delete(g.subs, id)
	return nil
}

func newManager(t *testing.T, base string) (*Manager, *fakeGraph, *clock) {
	p, c := newPipeline(t)
	g := &fakeGraph{}
	return &Manager{Records: p.Records, Graph: g, BaseURL: base, ClientState: "secret", Now: c.Now, Classify: classify, Holder: "me"}, g, c
}

func TestEnsureCreatesAdoptsAndRenews(t *testing.T) {
	ctx := context.Background()
	m, g, c := newManager(t, "https://app.example.com")
	subs, err := m.Ensure(ctx, tenant)
	require.NoError(t, err)
	require.Len(t, subs, 2, "one for users, one for groups")
	assert.Equal(t, 2, g.creates)
	for _, s := range g.subs {
		assert.Equal(t, "https://app.example.com/api/notifications", s.NotificationURL)
		assert.Equal(t, "https://app.example.com/api/notifications/lifecycle", s.LifecycleURL)
		assert.True(t, s.Expiration.Sub(t0) <= 41760*time.Minute, "within Graph's maximum for users and groups")
	}

	// A second run, or a second instance after the first, adopts them.
	_, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 2, g.creates, "nothing new is created")
	assert.Equal(t, 0, g.renews, "nothing renewed while most of the lifetime remains")

	// With less than a third of the lifetime left, each is renewed.
	c.Add(Lifetime - renewWhenLeft + time.Hour)
	subs, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 2, g.renews)
	for _, s := range subs {
		assert.Equal(t, c.Now(), s.LastRenewedAt)
		assert.Equal(t, c.Now().Add(Lifetime), s.ExpirationDateTime)
	}
	stored, err := m.Records.Subscriptions.List(ctx, tenant)
	require.NoError(t, err)
	assert.Len(t, stored, 2)
}

func TestEnsureDeletesDuplicatesAndReplacesOnesWithoutLifecycleURL(t *testing.T) {
	ctx := context.Background()
	m, g, _ := newManager(t, "https://app.example.com")
	notify := "https://app.example.com/api/notifications"
	g.subs = map[string]Subscription{
		"old-1": {ID: "old-1", Resource: "users", NotificationURL: notify, LifecycleURL: "https://app.example.com/api/notifications/lifecycle", Expiration: t0.Add(20 * 24 * time.Hour)},
		"old-2": {ID: "old-2", Resource: "/users", NotificationURL: notify, LifecycleURL: "https://app.example.com/api/notifications/lifecycle", Expiration: t0.Add(10 * 24 * time.Hour)},
		"bare":  {ID: "bare", Resource: "/groups", NotificationURL: notify, Expiration: t0.Add(20 * 24 * time.Hour)},
		"other": {ID: "other", Resource: "/users", NotificationURL: "https://someone-else.example.com/hook", Expiration: t0.Add(24 * time.Hour)},
	}
	subs, err := m.Ensure(ctx, tenant)
	require.NoError(t, err)
	require.Len(t, subs, 2)
	assert.Equal(t, "old-1", subs[0].ID, "the one expiring last is adopted")
	_, dup := g.subs["old-2"]
	assert.False(t, dup, "the duplicate is deleted")
	_, bare := g.subs["bare"]
	assert.False(t, bare, "a subscription without our lifecycle URL is replaced")
	_, other := g.subs["other"]
	assert.True(t, other, "another app's endpoint is not ours to touch")
	assert.Equal(t, 1, g.creates)
}

func TestEnsureWithoutAUsablePublicURLCreatesNothingAndSaysWhy(t *testing.T) {
	for _, base := range []string{"", "http://app.example.com", "not a url"} {
		t.Run(fmt.Sprintf("base %q", base), func(t *testing.T) {
			ctx := context.Background()
			m, g, _ := newManager(t, base)
			subs, err := m.Ensure(ctx, tenant)
			require.NoError(t, err)
			assert.Empty(t, subs)
			assert.Equal(t, 0, g.creates)
			h, err := m.Records.Signals.Health(ctx, tenant)
			require.NoError(t, err)
			assert.Equal(t, "notConfigured", h[SourceSubscriptions].Status)
			assert.NotEmpty(t, h[SourceSubscriptions].Reason)
		})
	}
	require.NoError(t, CheckBaseURL("http://127.0.0.1:7071"), "plain http is fine on loopback")
	require.NoError(t, CheckBaseURL("http://localhost:7071"))
}

func TestEnsureLeavesTheWorkToAnInstanceHoldingTheLease(t *testing.T) {
	ctx := context.Background()
	m, g, c := newManager(t, "https://app.example.com")
	ok, err := m.Records.Signals.Lease(ctx, tenant, "subscriptions", "someone-else", c.Now(), time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 0, g.creates, "the other instance is creating them")
	c.Add(2 * time.Minute)
	_, err = m.Ensure(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, 2, g.creates, "an expired lease is taken over")
}

func TestConcurrentEnsureCreatesEachSubscriptionOnce(t *testing.T) {
	ctx := context.Background()
	m, g, _ := newManager(t, "https://app.example.com")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := *m
			other.Holder = fmt.Sprintf("instance-%d", i)
			_, err := other.Ensure(ctx, tenant)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, 2, g.creates)
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	m, g, _ := newManager(t, "https://app.example.com")
	subs, err := m.Ensure(ctx, tenant)
	require.NoError(t, err)
	id := subs[0].ID

	require.NoError(t, m.Reauthorize(ctx, tenant, id))
	assert.Equal(t, []string{id}, g.reauthorized)
	assert.Equal(t, 2, g.creates, "a reauthorization that works recreates nothing")

	g.reauthErr = errors.New("403")
	require.NoError(t, m.Reauthorize(ctx, tenant, id))
	assert.Equal(t, 3, g.creates, "a refused reauthorization recreates the subscription")
	_, still := g.subs[id]
	assert.False(t, still)

	subs, err = m.Records.Subscriptions.List(ctx, tenant)
	require.NoError(t, err)
	removed := subs[0].ID
	delete(g.subs, removed)
	require.NoError(t, m.Removed(ctx, tenant, removed))
	assert.Equal(t, 4, g.creates, "a removed subscription is created again")

	g.listErr = errForbidden
	_, err = m.Ensure(ctx, tenant)
	require.NoError(t, err, "a refusal is recorded, not retried")
	h, err := m.Records.Signals.Health(ctx, tenant)
	require.NoError(t, err)
	assert.Equal(t, "forbidden", h[SourceSubscriptions].Status)
	g.listErr = errThrottled
	_, err = m.Ensure(ctx, tenant)
	require.Error(t, err, "throttling is retried")
}
