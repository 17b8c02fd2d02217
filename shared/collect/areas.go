package collect

import (
	"context"
	"log/slog"

	"m365security/shared/graph"
	"m365security/shared/maildns"
	"m365security/shared/posture"
)

// Area declares one collection area once: the name its snapshots carry,
// the timer function that runs it, the Graph sources it reads and the
// collector that reads them. The handler registers timers from it, the
// catalogue and the permission table derive from it, and a collection that
// cannot start marks exactly these sources skipped.
type Area struct {
	Name posture.Area
	// Timer is the functions/<Timer> folder whose schedule runs the area.
	Timer   string
	Sources []SourceInfo
	collect func(context.Context, Env, *slog.Logger) posture.Collected
}

// Env is what a collection reads from: the tenant's Graph reader, and the
// DNS resolver the email area checks mail domains with (nil: none
// configured, and the DNS source fails with that reason).
type Env struct {
	Graph *graph.Reader
	DNS   maildns.Lookuper
}

// Areas lists every collection area in display order (posture.Areas).
func Areas() []Area {
	return []Area{
		{Name: posture.AreaIdentity, Timer: "CollectIdentity", Sources: infos(identitySources()),
			collect: func(ctx context.Context, e Env, log *slog.Logger) posture.Collected {
				id, src := Identity(ctx, e.Graph, log)
				return posture.Collected{Sources: src, Identity: id}
			}},
		{Name: posture.AreaDevices, Timer: "CollectDevices", Sources: infos(deviceSources()),
			collect: func(ctx context.Context, e Env, log *slog.Logger) posture.Collected {
				d, src := Devices(ctx, e.Graph, log)
				return posture.Collected{Sources: src, Devices: d}
			}},
		{Name: posture.AreaSecureScore, Timer: "CollectSecureScore", Sources: infos(secureScoreSources()),
			collect: func(ctx context.Context, e Env, log *slog.Logger) posture.Collected {
				ss, src := SecureScore(ctx, e.Graph, log)
				return posture.Collected{Sources: src, SecureScore: ss}
			}},
		{Name: posture.AreaBackup, Timer: "CollectBackup", Sources: infos(backupSources()),
			collect: func(ctx context.Context, e Env, log *slog.Logger) posture.Collected {
				b, src := Backup(ctx, e.Graph, log)
				return posture.Collected{Sources: src, Backup: b}
			}},
		{Name: posture.AreaEmail, Timer: "CollectEmail", Sources: infos(emailSources()),
			collect: func(ctx context.Context, e Env, log *slog.Logger) posture.Collected {
				m, src := Email(ctx, e.Graph, e.DNS, log)
				return posture.Collected{Sources: src, Email: m}
			}},
	}
}

// AreaNamed returns the declaration of an area.
func AreaNamed(name posture.Area) (Area, bool) {
	for _, a := range Areas() {
		if a.Name == name {
			return a, true
		}
	}
	return Area{}, false
}

// Collect reads the area from Graph (and DNS).
func (a Area) Collect(ctx context.Context, env Env, log *slog.Logger) posture.Collected {
	return a.collect(ctx, env, log)
}

// Unavailable is the collection of a run that could not reach Graph at all
// (no credential, no client): the reason on a "graph" source and every
// declared source skipped, so metrics turn unknown with the reason rather
// than silently keeping stale values.
func (a Area) Unavailable(reason string) posture.Collected {
	srcs := posture.Sources{{Name: "graph", Status: posture.SourceFailed, Reason: reason}}
	for _, s := range a.Sources {
		srcs = append(srcs, posture.Source{Name: s.Name, Path: s.Path, Status: posture.SourceSkipped, Reason: "graph client unavailable"})
	}
	return posture.Collected{Sources: srcs}
}

func infos[S any](srcs []source[S]) []SourceInfo {
	out := make([]SourceInfo, 0, len(srcs))
	for _, s := range srcs {
		out = append(out, s.SourceInfo)
	}
	return out
}
