package collect

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"m365security/shared/posture"
)

func TestAreasAreDeclaredOnceAndMatchPosture(t *testing.T) {
	var names []posture.Area
	timers := map[string]bool{}
	for _, a := range Areas() {
		names = append(names, a.Name)
		require.NotEmpty(t, a.Sources, a.Name)
		require.False(t, timers[a.Timer], "timer %s runs two areas", a.Timer)
		timers[a.Timer] = true
		for _, s := range a.Sources {
			require.Equal(t, a.Name, s.Area, "source %s is declared under %s", s.Name, a.Name)
		}
		got, ok := AreaNamed(a.Name)
		require.True(t, ok)
		require.Equal(t, a.Timer, got.Timer)
	}
	require.Equal(t, posture.Areas, names, "collect.Areas and posture.Areas list the same areas in the same order")
	_, ok := AreaNamed("nope")
	require.False(t, ok)
	require.Len(t, Catalogue(), func() int {
		n := 0
		for _, a := range Areas() {
			for _, s := range a.Sources {
				if !s.DNS {
					n++
				}
			}
		}
		return n
	}(), "the catalogue holds every Graph source and no DNS source")
	email, _ := AreaNamed(posture.AreaEmail)
	require.True(t, slices.ContainsFunc(email.Sources, func(s SourceInfo) bool { return s.DNS && s.Name == posture.SrcMailDNS }))
}

func TestUnavailableMarksEveryDeclaredSourceSkipped(t *testing.T) {
	for _, a := range Areas() {
		c := a.Unavailable("create credential: no managed identity")
		require.Len(t, c.Sources, len(a.Sources)+1)
		g, ok := c.Sources.Get("graph")
		require.True(t, ok)
		require.Equal(t, posture.SourceFailed, g.Status)
		require.Equal(t, "create credential: no managed identity", g.Reason)
		for _, s := range a.Sources {
			got, ok := c.Sources.Get(s.Name)
			require.True(t, ok, s.Name)
			require.Equal(t, posture.SourceSkipped, got.Status)
		}
	}
}
