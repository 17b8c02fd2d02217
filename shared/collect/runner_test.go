package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graph"
	"m365security/shared/posture"
)

// fakeState records what the fake sources did.
type fakeState struct {
	running, peak atomic.Int32
}

func fakeSource(name string, deps []string, fetch func(ctx context.Context) (int, error)) source[fakeState] {
	return source[fakeState]{
		SourceInfo: SourceInfo{Name: name, Path: "/" + name, DependsOn: deps},
		fetch: func(ctx context.Context, _ *reader, st *fakeState) (int, error) {
			n := st.running.Add(1)
			defer st.running.Add(-1)
			for {
				p := st.peak.Load()
				if n <= p || st.peak.CompareAndSwap(p, n) {
					break
				}
			}
			return fetch(ctx)
		},
	}
}

func ok(n int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { time.Sleep(5 * time.Millisecond); return n, nil }
}

func TestRunner(t *testing.T) {
	forbidden := graph.StatusError("list things", 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	tests := []struct {
		name    string
		srcs    []source[fakeState]
		ctx     func() context.Context
		want    map[string]posture.SourceStatus
		reasons map[string]string
	}{
		{
			name: "independent sources all succeed",
			srcs: []source[fakeState]{fakeSource("a", nil, ok(1)), fakeSource("b", nil, ok(2))},
			want: map[string]posture.SourceStatus{"a": posture.SourceOK, "b": posture.SourceOK},
		},
		{
			name: "a panic fails its source only",
			srcs: []source[fakeState]{
				fakeSource("a", nil, func(context.Context) (int, error) { panic("converter bug") }),
				fakeSource("b", nil, ok(1)),
			},
			want:    map[string]posture.SourceStatus{"a": posture.SourceFailed, "b": posture.SourceOK},
			reasons: map[string]string{"a": "panic: converter bug"},
		},
		{
			name: "a source whose prerequisite failed is skipped, transitively",
			srcs: []source[fakeState]{
				fakeSource("a", nil, func(context.Context) (int, error) { return 0, forbidden }),
				fakeSource("b", []string{"a"}, ok(1)),
				fakeSource("c", []string{"b"}, ok(1)),
				fakeSource("d", nil, ok(1)),
			},
			want: map[string]posture.SourceStatus{
				"a": posture.SourceForbidden, "b": posture.SourceSkipped, "c": posture.SourceSkipped, "d": posture.SourceOK,
			},
			reasons: map[string]string{"b": "prerequisite a is forbidden", "c": "prerequisite b is skipped"},
		},
		{
			name: "a prerequisite declared later is refused rather than waited for",
			srcs: []source[fakeState]{fakeSource("a", []string{"b"}, ok(1)), fakeSource("b", nil, ok(1))},
			want: map[string]posture.SourceStatus{"a": posture.SourceSkipped, "b": posture.SourceOK},
		},
		{
			name: "a cancelled context fails every source",
			srcs: []source[fakeState]{
				fakeSource("a", nil, func(ctx context.Context) (int, error) { return 0, ctx.Err() }),
				fakeSource("b", []string{"a"}, ok(1)),
			},
			ctx: func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			want: map[string]posture.SourceStatus{"a": posture.SourceFailed, "b": posture.SourceFailed},
		},
		{
			name:    "a fetch with a note is ok and keeps the note",
			srcs:    []source[fakeState]{fakeSource("a", nil, func(context.Context) (int, error) { return 3, &okWithNote{note: "2 names missing"} })},
			want:    map[string]posture.SourceStatus{"a": posture.SourceOK},
			reasons: map[string]string{"a": "2 names missing"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			var st fakeState
			got := run(ctx, nil, discardLogger(), tc.srcs, &st)
			require.Len(t, got, len(tc.srcs))
			for i, s := range got {
				require.Equal(t, tc.srcs[i].Name, s.Name, "sources come back in declaration order")
				require.Equal(t, tc.want[s.Name], s.Status, "source %s: %s", s.Name, s.Reason)
				if r, ok := tc.reasons[s.Name]; ok {
					require.Equal(t, r, s.Reason)
				}
			}
		})
	}
}

func TestRunnerBoundsConcurrency(t *testing.T) {
	var srcs []source[fakeState]
	for i := range 12 {
		srcs = append(srcs, fakeSource(fmt.Sprint(i), nil, func(context.Context) (int, error) {
			time.Sleep(20 * time.Millisecond)
			return 1, nil
		}))
	}
	var st fakeState
	run(context.Background(), nil, discardLogger(), srcs, &st)
	require.Equal(t, int32(maxConcurrentSources), st.peak.Load())
}

func TestRunnerLogsOneLinePerSource(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	srcs := []source[fakeState]{
		fakeSource("a", nil, func(context.Context) (int, error) {
			return 0, graph.StatusError("list a", 403, "Authorization_RequestDenied", "Insufficient privileges")
		}),
		fakeSource("b", []string{"a"}, ok(1)),
		fakeSource("c", nil, ok(7)),
	}
	var st fakeState
	run(context.Background(), nil, log, srcs, &st)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	byName := map[string]map[string]any{}
	for _, l := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec))
		byName[rec["source"].(string)] = rec
	}
	tests := []struct {
		name, source, level, status string
	}{
		{"a forbidden source logs a warning", "a", "WARN", "forbidden"},
		{"a skipped source logs at info", "b", "INFO", "skipped"},
		{"an ok source logs its items at info", "c", "INFO", "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := byName[tc.source]
			require.Equal(t, tc.level, rec["level"])
			require.Equal(t, tc.status, rec["status"])
			for _, k := range []string{"items", "requests", "http_requests", "duration_ms"} {
				require.Contains(t, rec, k)
			}
		})
	}
	require.Equal(t, float64(7), byName["c"]["items"])
}

func TestCatalogIsConsistent(t *testing.T) {
	cat := Catalogue()
	allNames := []string{
		posture.SrcUsers, posture.SrcSignInActivity, posture.SrcRegistrationDetails, posture.SrcSecurityDefaults,
		posture.SrcConditionalAccess, posture.SrcNamedLocations, posture.SrcGroupMembers, posture.SrcRoleAssignments,
		posture.SrcRoleDefinitions, posture.SrcRoleEligibility, posture.SrcAuthorizationPolicy, posture.SrcDomains,
		posture.SrcRiskyUsers, posture.SrcManagedDevices, posture.SrcProtectionStates, posture.SrcSecureScores,
		posture.SrcControlProfiles, posture.SrcBackupService, posture.SrcBackupPolicies,
		posture.SrcAuthStrengths, posture.SrcPermissionClasses, posture.SrcGroupEligibility, posture.SrcSubscribedSkus,
		posture.SrcMailDomains, posture.SrcMailSkus, posture.SrcMailScores, posture.SrcMailProfiles,
	}
	var names []string
	for _, s := range cat {
		names = append(names, s.Name)
	}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"every source name is declared exactly once", func(t *testing.T) {
			require.ElementsMatch(t, allNames, names)
		}},
		{"every source names its path and least-privileged permission", func(t *testing.T) {
			for _, s := range cat {
				require.True(t, strings.HasPrefix(s.Path, "/"), s.Name)
				require.NotEmpty(t, s.Permission, s.Name)
				require.NotEmpty(t, s.Area, s.Name)
			}
		}},
		{"prerequisites are declared earlier in the same area", func(t *testing.T) {
			seen := map[string]posture.Area{}
			for _, s := range cat {
				for _, d := range slices.Concat(s.DependsOn, s.After) {
					area, ok := seen[d]
					require.True(t, ok, "%s waits for %s, which is not declared before it", s.Name, d)
					require.Equal(t, s.Area, area, "%s waits for %s in another area", s.Name, d)
				}
				seen[s.Name] = s.Area
			}
		}},
		{"a page size comes with where its maximum is documented", func(t *testing.T) {
			for _, s := range cat {
				if s.PageSize > 0 {
					require.NotEmpty(t, s.PageSizeSource, s.Name)
					require.Contains(t, s.Query, fmt.Sprintf("$top=%d", s.PageSize), s.Name)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}
}
