// Package procstat reads a process's memory figures from Linux's
// /proc/<pid>/status, for the benchmarks and memory regression tests that
// report resident size (VmRSS) and its high-water mark (VmHWM). It is
// measurement support only; no product code path uses it.
package procstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Field returns a kB field of /proc/<pid>/status in bytes; pid 0 is this
// process. It returns -1 where the field cannot be read (not Linux, no such
// process or field), so a caller never reports a false figure.
func Field(pid int, field string) float64 {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	fh, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer fh.Close()
	s := bufio.NewScanner(fh)
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return -1
		}
		kb, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return -1
		}
		return kb * 1024
	}
	return -1
}
