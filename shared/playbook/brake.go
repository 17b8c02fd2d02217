package playbook

import (
	"fmt"
	"strings"
	"time"

	"m365security/shared/records"
)

// BrakeWindow is the safety brake's window: the tenant's
// autoActionsPerHour counts automatic destructive actions in the last hour.
const BrakeWindow = time.Hour

// BrakeClaim decides one automatic destructive action under the brake and
// returns the log to store. Entries older than the window are dropped. An
// action already counted (its key is in the log) passes again without a
// second slot, so re-planning is idempotent; otherwise it takes a slot when
// fewer than limit are taken.
func BrakeClaim(log records.BrakeLog, key string, now time.Time, limit int) (records.BrakeLog, bool) {
	kept := log.Entries[:0:0]
	counted := false
	for _, e := range log.Entries {
		if now.Sub(e.At) >= BrakeWindow {
			continue
		}
		kept = append(kept, e)
		if e.Key == key {
			counted = true
		}
	}
	if counted {
		return records.BrakeLog{Entries: kept}, true
	}
	if len(kept) >= limit {
		return records.BrakeLog{Entries: kept}, false
	}
	return records.BrakeLog{Entries: append(kept, records.BrakeEntry{Key: key, At: now})}, true
}

// BrakeReason is the reason an action held by the brake carries.
func BrakeReason(limit int) string {
	return fmt.Sprintf("safety brake: %d automatic destructive actions already ran in the last hour (limit autoActionsPerHour %d); this one waits for a person", limit, limit)
}

// IsBrakeReason reports whether an action waits because of the brake.
func IsBrakeReason(r string) bool { return strings.HasPrefix(r, "safety brake:") }
