package posture

import (
	"strings"
	"time"
)

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

// Platform is the device's operating system as Intune reports it, or
// "unknown" when Intune reports none.
func (d Device) Platform() string {
	if p := strings.TrimSpace(d.OperatingSystem); p != "" {
		return p
	}
	return "unknown"
}

// ProtectionMeasurable reports whether Graph can read the device's endpoint
// protection state, and when it cannot, why. Only Windows devices have one
// (windowsProtectionState); the collector reads it for exactly these
// devices. A measurable device with no state, or a stale one, is measured
// and not protected; an unmeasurable device is neither protected nor
// unprotected.
func (d Device) ProtectionMeasurable() (ok bool, reason string) {
	if d.IsWindows() {
		return true, ""
	}
	if d.Platform() == "unknown" {
		return false, "Intune reports no operating system for the device, so Graph has no protection state to read"
	}
	return false, "Graph has no endpoint protection state for " + d.Platform() +
		" devices (Intune's windowsProtectionState covers Windows only)"
}

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
