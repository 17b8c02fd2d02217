package collect

import "time"

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// timeOf returns the time or the zero time for nil.
func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// stringer is an SDK enum.
type stringer interface{ String() string }

// enumString returns an SDK enum's Graph spelling, or "" for nil.
func enumString[E stringer](p *E) string {
	if p == nil {
		return ""
	}
	return (*p).String()
}

// enumStrings converts a list of SDK enums to their Graph spellings; nil
// stays nil.
func enumStrings[E stringer](xs []E) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}
