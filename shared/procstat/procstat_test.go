package procstat

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestField(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	rss := Field(0, "VmRSS")
	require.Greater(t, rss, float64(1<<20), "a Go test process holds more than 1 MB")
	require.Equal(t, rss >= 0, Field(os.Getpid(), "VmRSS") >= 0, "pid 0 and our own pid read the same file")
	require.GreaterOrEqual(t, Field(0, "VmHWM"), Field(0, "VmRSS")-float64(1<<20), "the high-water mark is not below the resident size")
	require.Equal(t, -1.0, Field(0, "NoSuchField"))
	require.Equal(t, -1.0, Field(1<<30, "VmRSS"), "no such process")
}
