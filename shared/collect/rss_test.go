package collect

import (
	"os"
	"runtime"
	"sync"
	"testing"

	"m365security/shared/procstat"
)

// peakRSS runs f and returns the process's peak resident set size during f
// and how far it rose above the resident size before f, both in bytes. It
// resets the kernel's high-water mark first (writing 5 to clear_refs), so the
// peak belongs to f; it returns -1s where /proc does not allow that. The
// simulator serves from the same process, so the delta includes its encoding
// buffers: an upper bound on the collector's own peak.
//
// Only the first benchmark of a process that measures is reported: a later
// one would start from a heap earlier benchmarks grew (make bench runs every
// benchmark in its own process). The others get -1s and a log line.
func peakRSS(tb testing.TB, f func()) (peak, delta float64) {
	tb.Helper()
	rssOwner.once.Do(func() { rssOwner.name = tb.Name() })
	if rssOwner.name != tb.Name() {
		tb.Logf("peak RSS not reported: %s measured first in this process; run one benchmark per process (make bench does)", rssOwner.name)
		f()
		return -1, -1
	}
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		f()
		return -1, -1
	}
	before := procstat.Field(0, "VmRSS")
	f()
	peak = procstat.Field(0, "VmHWM")
	if peak < 0 || before < 0 {
		return -1, -1
	}
	return peak, peak - before
}

// rssOwner is the benchmark whose RSS this process reports.
var rssOwner struct {
	once sync.Once
	name string
}

// reportRSS reports a measured size in MB under unit; an unmeasured one
// (negative) is not reported at all rather than as a false figure.
func reportRSS(b *testing.B, bytes float64, unit string) {
	if bytes >= 0 {
		b.ReportMetric(bytes/(1<<20), unit)
	}
}
