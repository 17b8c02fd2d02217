package report

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/assess"
	"m365security/shared/posture"
	"m365security/shared/records"
	"m365security/shared/seed"
	"m365security/shared/settings"
	"m365security/shared/store/embedded"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const tenant = "11111111-2222-4333-8444-555555555555"

// hostile is a display name that must stay text in every format.
const hostile = `<img src=x onerror=alert(1)>`

// testNow is the fixed clock of the seeded tests: mid-November 2026.
var testNow = time.Date(2026, 11, 15, 8, 0, 0, 0, time.UTC)

type fixture struct {
	rec     *records.Records
	builder *Builder
}

func newTestStore(t testing.TB) *records.Records {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "store.db"), embedded.WithNoSync())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return records.New(s)
}

func newFixture(t testing.TB, rec *records.Records) fixture {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := func() time.Time { return testNow }
	svc := assess.New(rec, func(context.Context, string, posture.Area) posture.Collected { return posture.Collected{} }, now, log)
	return fixture{rec: rec, builder: NewBuilder(rec, svc, now)}
}

// newSeeded is a store with a seeded year for a 40-user tenant whose first
// user has a hostile display name, and settings naming the contacts.
func newSeeded(t testing.TB) fixture {
	t.Helper()
	rec := newTestStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := seed.Synthetic(40, 30, testNow, hostile)
	_, err := seed.Year(context.Background(), rec, base, seed.DefaultOptions(tenant, testNow), log)
	require.NoError(t, err)
	_, err = rec.Settings.UpdateTenant(context.Background(), tenant, func(s *settings.Tenant) error {
		s.Contacts.Customer = settings.Contact{Name: "Zoë Ångström " + hostile, Email: "it@contoso.example"}
		s.Contacts.Provider = settings.Contact{Name: "=HYPERLINK(\"http://x\")", Email: "soc@provider.example"}
		return nil
	})
	require.NoError(t, err)
	return newFixture(t, rec)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test ./shared/report -update")
	require.Equal(t, string(want), string(got), "rendered output changed: review and run go test ./shared/report -update")
}
