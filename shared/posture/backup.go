package posture

import "time"

// Backup is what the backup collector reads from Microsoft 365 Backup.
type Backup struct {
	// ServiceStatus is enabled, disabled, protectionChangeLocked or
	// restoreLocked; empty when the service could not be read.
	ServiceStatus string             `json:"serviceStatus"`
	Policies      []ProtectionPolicy `json:"policies"`
}

// ProtectionPolicy is a Microsoft 365 Backup protection policy.
type ProtectionPolicy struct {
	ID           string    `json:"id"`
	DisplayName  string    `json:"displayName"`
	Workload     string    `json:"workload"` // exchange, sharePoint, oneDriveForBusiness
	Status       string    `json:"status"`
	LastModified time.Time `json:"lastModified"`
}

// RestoreTest is a backup restore test a customer recorded through the API.
type RestoreTest struct {
	ID          string    `json:"id"`
	TenantID    string    `json:"tenantId"`
	PerformedAt time.Time `json:"performedAt"`
	Workload    string    `json:"workload"`
	Succeeded   bool      `json:"succeeded"`
	Notes       string    `json:"notes,omitempty"`
	RecordedAt  time.Time `json:"recordedAt"`
}
