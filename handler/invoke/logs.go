package invoke

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// collector gathers the lines the host shows under the invocation.
type collector struct {
	mu  sync.Mutex
	buf []string
}

func (c *collector) add(s string) {
	c.mu.Lock()
	c.buf = append(c.buf, s)
	c.mu.Unlock()
}

func (c *collector) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.buf...)
}

// teeHandler passes records to the process logger and copies Info and above
// into the invocation's Logs, so they appear in Application Insights under the
// invocation. Attributes are rendered key=value after the message; the
// invocation id and function name are left out since the host already has them.
type teeHandler struct {
	next  slog.Handler
	c     *collector
	attrs []slog.Attr
}

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
		write := func(a slog.Attr) bool {
			if a.Key != "invocation_id" && a.Key != "function" {
				fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
			}
			return true
		}
		for _, a := range h.attrs {
			write(a)
		}
		r.Attrs(write)
		h.c.add(b.String())
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{next: h.next.WithAttrs(as), c: h.c, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{next: h.next.WithGroup(name), c: h.c, attrs: h.attrs}
}
