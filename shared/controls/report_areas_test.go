package controls

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEveryControlBelongsToExactlyOneReportArea(t *testing.T) {
	for _, c := range Catalogue {
		n := 0
		for _, a := range ReportAreas {
			for _, p := range a.Prefixes {
				if len(c.ID) >= len(p) && c.ID[:len(p)] == p {
					n++
				}
			}
		}
		require.Equal(t, 1, n, "%s must map to exactly one report area", c.ID)
		_, ok := ReportAreaOf(c.ID)
		require.True(t, ok, c.ID)
	}
	_, ok := ReportAreaOf("NOPE.1")
	require.False(t, ok, "an unknown id belongs to no area")
	a, _ := ReportAreaOf("M365SEC.ALERT.1")
	require.Equal(t, "response", a.ID, "alert review is reported under response although it reads no snapshot")
}
