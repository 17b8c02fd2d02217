package report

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"m365security/shared/procstat"
	"m365security/shared/records"
	"m365security/shared/seed"
	"m365security/shared/store/embedded"
)

// benchVersion names the cached benchmark store; change it when the
// seeded data changes.
const benchVersion = "v1"

// benchStore returns a store holding twelve months of weekly history for a
// 10,000-user, 10,000-device tenant. Seeding takes a while, and make bench
// runs every row in its own process, so the store is built once into the
// temporary directory and reused by later rows.
func benchStore(b *testing.B) *records.Records {
	b.Helper()
	cached := filepath.Join(os.TempDir(), "m365security-report-bench-"+benchVersion+".db")
	_, err := os.Stat(cached)
	fresh := os.IsNotExist(err)
	s, err := embedded.Open(cached, embedded.WithNoSync())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	rec := records.New(s)
	if fresh {
		opts := seed.DefaultOptions(tenant, testNow)
		opts.Every = 7
		opts.Gap = [2]int{}
		base := seed.Synthetic(10_000, 10_000, testNow, hostile)
		if _, err := seed.Year(context.Background(), rec, base, opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			_ = os.Remove(cached)
			b.Fatal(err)
		}
	}
	return rec
}

// renderers are the formats a benchmark row renders after building.
var renderers = map[string]func(Report) ([]byte, error){
	"json": JSON,
	"html": HTML,
	"csv":  Zip,
	"pdf":  PDF,
	"mail": func(r Report) ([]byte, error) { b, _, err := MailHTML(r, ""); return b, err },
}

// BenchmarkReport builds and renders one report over the seeded year:
// BenchmarkReport/monthly/json and so on. It reports the output size and
// how far the peak resident size rose during the run.
func BenchmarkReport(b *testing.B) {
	for _, k := range []struct {
		kind    Kind
		id      string
		formats []string
	}{{Monthly, "2026-10", []string{"json", "html", "csv", "pdf", "mail"}}, {Quarterly, "2026-Q3", []string{"json", "html", "pdf"}}} {
		for _, format := range k.formats {
			b.Run(string(k.kind)+"/"+format, func(b *testing.B) {
				f := newFixture(b, benchStore(b))
				p, _ := Parse(k.kind, k.id)
				runtime.GC()
				resetPeak := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
				before := procstat.Field(0, "VmRSS")
				size := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					r, err := f.builder.Build(context.Background(), tenant, p)
					if err != nil {
						b.Fatal(err)
					}
					out, err := renderers[format](r)
					if err != nil {
						b.Fatal(err)
					}
					size = len(out)
				}
				b.StopTimer()
				b.ReportMetric(float64(size)/1024, "output-KB")
				if peak := procstat.Field(0, "VmHWM"); resetPeak && peak > 0 && before > 0 {
					b.ReportMetric((peak-before)/(1<<20), "peak-RSS-rise-MB")
				}
			})
		}
	}
}
