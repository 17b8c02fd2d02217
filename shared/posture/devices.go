package posture

import "time"

// Devices is what the device collector reads from Intune.
type Devices struct {
	Devices []Device `json:"devices"`
}

// Device is an Intune managed device.
type Device struct {
	ID                string    `json:"id"`
	DeviceName        string    `json:"deviceName"`
	UserID            string    `json:"userId,omitempty"`
	UserPrincipalName string    `json:"userPrincipalName,omitempty"`
	OperatingSystem   string    `json:"operatingSystem"`
	OSVersion         string    `json:"osVersion,omitempty"`
	ComplianceState   string    `json:"complianceState"`
	IsEncrypted       bool      `json:"isEncrypted"`
	JailBroken        string    `json:"jailBroken,omitempty"`
	LastSync          time.Time `json:"lastSync"`
	OwnerType         string    `json:"ownerType,omitempty"`
	// Protection is nil when no protection state was read for the device
	// (non-Windows, or the read failed; see Sources).
	Protection *Protection `json:"protection,omitempty"`
}

// IsWindows reports whether the device runs Windows, the platforms Intune
// reports a windowsProtectionState for.
func (d Device) IsWindows() bool { return d.OperatingSystem == "Windows" }

// Protection is a Windows device's Defender state (windowsProtectionState).
type Protection struct {
	MalwareProtectionEnabled  bool       `json:"malwareProtectionEnabled"`
	RealTimeProtectionEnabled bool       `json:"realTimeProtectionEnabled"`
	SignatureUpdateOverdue    bool       `json:"signatureUpdateOverdue"`
	QuickScanOverdue          bool       `json:"quickScanOverdue"`
	TamperProtectionEnabled   *bool      `json:"tamperProtectionEnabled,omitempty"`
	DeviceState               string     `json:"deviceState,omitempty"`
	ProductStatus             string     `json:"productStatus,omitempty"`
	LastReported              *time.Time `json:"lastReported,omitempty"`
}
