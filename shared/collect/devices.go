package collect

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/devicemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"m365security/shared/graph"
	"m365security/shared/posture"
)

// intunePageSize is the $top sent to Intune: its default and largest page
// is 1000 devices (undocumented as a maximum; Intune's own samples page at
// 1000 and larger values are not honoured).
const intunePageSize = 1000

var (
	deviceSelect = []string{
		"id", "deviceName", "userId", "userPrincipalName", "operatingSystem", "osVersion",
		"complianceState", "isEncrypted", "jailBroken", "lastSyncDateTime", "managedDeviceOwnerType",
	}
	protectionSelect = []string{
		"malwareProtectionEnabled", "realTimeProtectionEnabled", "signatureUpdateOverdue", "quickScanOverdue",
		"tamperProtectionEnabled", "deviceState", "productStatus", "lastReportedDateTime",
	}
)

const licenceIntune = "Microsoft Intune"

type devicesState struct {
	devices    []posture.Device
	protection map[string]*posture.Protection
}

// Devices reads Intune's managed devices and, for Windows devices, their
// Defender protection state. Devices is nil in the result when the device
// list could not be read.
func Devices(ctx context.Context, c *graph.Reader, log *slog.Logger) (*posture.Devices, posture.Sources) {
	var st devicesState
	srcs := run(ctx, c, collectorLog(log, posture.AreaDevices), deviceSources(), &st)
	out := &posture.Devices{Devices: st.devices}
	for i := range out.Devices {
		out.Devices[i].Protection = st.protection[out.Devices[i].ID]
	}
	return out, srcs
}

func deviceSources() []source[devicesState] {
	area := posture.AreaDevices
	return []source[devicesState]{
		{SourceInfo{
			Name: posture.SrcManagedDevices, Area: area, Path: "/deviceManagement/managedDevices",
			Query:    "$select=" + strings.Join(deviceSelect, ",") + "&$top=1000",
			PageSize: intunePageSize, PageSizeSource: "Intune pages at 1000; no larger maximum is documented",
			Permission: "DeviceManagementManagedDevices.Read.All", Licence: licenceIntune,
		}, fetchDevices},
		{SourceInfo{
			Name: posture.SrcProtectionStates, Area: area, Path: "/deviceManagement/managedDevices/{id}/windowsProtectionState",
			Query:      "$select=" + strings.Join(protectionSelect, ",") + " per Windows device, 20 per $batch",
			Permission: "DeviceManagementManagedDevices.Read.All", Licence: licenceIntune,
			DependsOn: []string{posture.SrcManagedDevices},
		}, fetchProtection},
	}
}

func fetchDevices(ctx context.Context, r *reader, st *devicesState) (int, error) {
	b := r.c.SDK().DeviceManagement().ManagedDevices()
	cfg := &devicemanagement.ManagedDevicesRequestBuilderGetRequestConfiguration{
		QueryParameters: &devicemanagement.ManagedDevicesRequestBuilderGetQueryParameters{
			Select: deviceSelect, Top: ptr(int32(intunePageSize)),
		},
	}
	out := []posture.Device{}
	err := listPages(ctx, r, "list managed devices",
		func(ctx context.Context) (models.ManagedDeviceCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (models.ManagedDeviceCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.ManagedDeviceCollectionResponseable) error {
			for _, d := range p.GetValue() {
				out = append(out, posture.Device{
					ID:                deref(d.GetId()),
					DeviceName:        deref(d.GetDeviceName()),
					UserID:            deref(d.GetUserId()),
					UserPrincipalName: deref(d.GetUserPrincipalName()),
					OperatingSystem:   deref(d.GetOperatingSystem()),
					OSVersion:         deref(d.GetOsVersion()),
					ComplianceState:   enumString(d.GetComplianceState()),
					IsEncrypted:       deref(d.GetIsEncrypted()),
					JailBroken:        deref(d.GetJailBroken()),
					LastSync:          timeOf(d.GetLastSyncDateTime()),
					OwnerType:         enumString(d.GetManagedDeviceOwnerType()),
				})
			}
			return nil
		})
	if err != nil {
		return 0, err
	}
	st.devices = out
	return len(out), nil
}

// fetchProtection reads windowsProtectionState for every Windows device, 20
// devices per $batch. A 404 means the device never reported a state: its
// Protection stays nil and that is not a failure. Any other failed item
// makes the source fail with the counts in its reason; the states that were
// read are kept.
func fetchProtection(ctx context.Context, r *reader, st *devicesState) (int, error) {
	b := newBatcher(r, "read windows protection states")
	out := map[string]*posture.Protection{}
	var firstErr error
	windows, unreported, failed := 0, 0, 0
	query := "?$select=" + strings.Join(protectionSelect, ",")
	for _, d := range st.devices {
		if !d.IsWindows() {
			continue
		}
		windows++
		id := d.ID
		b.add("/deviceManagement/managedDevices/"+url.PathEscape(id)+"/windowsProtectionState"+query, func(res batchResult) {
			switch {
			case res.Err != nil && res.Status == 404:
				unreported++
			case res.Err != nil:
				failed++
				if firstErr == nil {
					firstErr = res.Err
				}
			default:
				out[id] = protectionOf(res.Body)
			}
		})
	}
	// A batch that failed as a whole has already reported every call.
	_ = b.run(ctx)
	st.protection = out
	if failed > 0 {
		return len(out), fmt.Errorf("protection state of %d of %d Windows devices not read (%d read, %d never reported): %w",
			failed, windows, len(out), unreported, firstErr)
	}
	return len(out), nil
}

func protectionOf(body map[string]any) *posture.Protection {
	p := &posture.Protection{
		DeviceState:   str(body["deviceState"]),
		ProductStatus: str(body["productStatus"]),
		LastReported:  timeOfRaw(body["lastReportedDateTime"]),
	}
	p.MalwareProtectionEnabled, _ = boolOf(body["malwareProtectionEnabled"])
	p.RealTimeProtectionEnabled, _ = boolOf(body["realTimeProtectionEnabled"])
	p.SignatureUpdateOverdue, _ = boolOf(body["signatureUpdateOverdue"])
	p.QuickScanOverdue, _ = boolOf(body["quickScanOverdue"])
	if v, ok := boolOf(body["tamperProtectionEnabled"]); ok {
		p.TamperProtectionEnabled = &v
	}
	return p
}
