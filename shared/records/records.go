package records

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"m365security/shared/store"
)

// Records bundles the repositories over one store.
type Records struct {
	Snapshots     Snapshots
	History       History
	Incidents     Incidents
	Exceptions    Exceptions
	RestoreTests  RestoreTests
	Settings      Settings
	State         State
	Subscriptions Subscriptions
	SentReports   SentReports
	Notices       Notices
	Parked        Parked
	Signals       Signals
}

// New returns the repositories over s.
func New(s store.Store) *Records {
	return &Records{
		Snapshots:     Snapshots{s},
		History:       History{s},
		Incidents:     Incidents{s},
		Exceptions:    Exceptions{s},
		RestoreTests:  RestoreTests{s},
		Settings:      Settings{s},
		State:         State{s},
		Subscriptions: Subscriptions{s},
		SentReports:   SentReports{s},
		Notices:       Notices{s},
		Parked:        Parked{s},
		Signals:       Signals{s},
	}
}

// ErrNotFound is returned for an id that names no document of the tenant.
var ErrNotFound = store.ErrNotFound

// SystemTenant partitions documents that belong to no tenant (scheduler
// state, parked messages).
const SystemTenant = "_system"

// Attribute keys, shared by the repositories so queries and writes agree.
const (
	attrArea     = "area"
	attrPart     = "part"
	attrSnapshot = "snapshot"
	attrStatus   = "status"
	attrOpen     = "open"
	attrControl  = "controlId"
	attrWorkload = "workload"
	attrFunction = "function"
	attrKind     = "kind"
	attrResource = "resource"
)

// NewID returns a random 16-hex-digit id for documents with no natural key.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// safeAttr keeps attribute values to a character set every store indexes
// the same way; ids from requests pass through it before they are matched.
func safeAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '.' || r == '-' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// found turns store.ErrNotFound into (false, nil) for optional reads.
func found(err error) (bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
