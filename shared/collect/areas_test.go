package collect

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
	"m365security/shared/posture"
)

func deviceByID(t testing.TB, d *posture.Devices, id string) posture.Device {
	t.Helper()
	for _, dev := range d.Devices {
		if dev.ID == id {
			return dev
		}
	}
	t.Fatalf("device %s not collected", id)
	return posture.Device{}
}

func TestDevicesReadsDevicesAndProtection(t *testing.T) {
	srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
	d, srcs := Devices(context.Background(), c, discardLogger())
	requireStatuses(t, srcs, nil)

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"every managed device is listed", func(t *testing.T) {
			require.Len(t, d.Devices, 4)
		}},
		{"device fields are converted", func(t *testing.T) {
			require.Equal(t, posture.Device{
				ID: "d-mac1", DeviceName: "dev-d-mac1", UserID: uBob, UserPrincipalName: "bob@contoso.example", OperatingSystem: "macOS",
				OSVersion: "10.0", ComplianceState: "compliant", JailBroken: "Unknown", LastSync: testNow.Add(-3 * time.Hour), OwnerType: "company",
			}, deviceByID(t, d, "d-mac1"))
		}},
		{"a Windows device that reported carries its protection state", func(t *testing.T) {
			require.Equal(t, &posture.Protection{
				MalwareProtectionEnabled: true, RealTimeProtectionEnabled: true, SignatureUpdateOverdue: true,
				TamperProtectionEnabled: bptr(true), DeviceState: "clean", ProductStatus: "noStatus", LastReported: ptr(testNow.Add(-time.Hour)),
			}, deviceByID(t, d, "d-win1").Protection)
		}},
		{"a Windows device that never reported has no protection and is no failure", func(t *testing.T) {
			require.Nil(t, deviceByID(t, d, "d-win2").Protection)
			require.Equal(t, 1, mustSource(t, srcs, posture.SrcProtectionStates).Items)
		}},
		{"non-Windows devices are not asked for protection", func(t *testing.T) {
			require.Nil(t, deviceByID(t, d, "d-ios1").Protection)
			require.Equal(t, 2, srv.Stats().ByRoute["/v1.0/deviceManagement/managedDevices/{id}/windowsProtectionState"])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.check)
	}
}

func TestDevicesFailures(t *testing.T) {
	intuneNotLicensed := graphsim.Fault{Status: 403, Code: "Forbidden", Message: "Tenant does not have a valid Intune license.", RetryAfter: -1}
	tests := []struct {
		name   string
		fault  func(*graphsim.Server)
		want   map[string]posture.SourceStatus
		reason string
		check  func(t *testing.T, d *posture.Devices)
	}{
		{
			name:  "a tenant without Intune has no devices, not zero devices",
			fault: func(s *graphsim.Server) { s.ForceError("/deviceManagement", intuneNotLicensed) },
			want: map[string]posture.SourceStatus{
				posture.SrcManagedDevices:   posture.SourceNotLicensed,
				posture.SrcProtectionStates: posture.SourceSkipped,
			},
			check: func(t *testing.T, d *posture.Devices) { require.Nil(t, d.Devices) },
		},
		{
			name: "a protection state refused for one device fails the source with counts",
			fault: func(s *graphsim.Server) {
				s.ForceError("/deviceManagement/managedDevices/d-win1/windowsProtectionState", graphsim.InsufficientPrivileges())
			},
			want:   map[string]posture.SourceStatus{posture.SrcProtectionStates: posture.SourceForbidden},
			reason: "protection state of 1 of 2 Windows devices not read (0 read, 1 never reported)",
			check: func(t *testing.T, d *posture.Devices) {
				require.Len(t, d.Devices, 4)
				require.Nil(t, deviceByID(t, d, "d-win1").Protection)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
			tc.fault(srv)
			d, srcs := Devices(context.Background(), c, discardLogger())
			requireStatuses(t, srcs, tc.want)
			if tc.reason != "" {
				require.Contains(t, mustSource(t, srcs, posture.SrcProtectionStates).Reason, tc.reason)
			}
			tc.check(t, d)
		})
	}
}

func TestSecureScore(t *testing.T) {
	tests := []struct {
		name  string
		fault func(*graphsim.Server)
		want  map[string]posture.SourceStatus
		check func(t *testing.T, s *posture.SecureScore)
	}{
		{
			name:  "scores come newest first whatever order Graph uses",
			fault: func(*graphsim.Server) {},
			check: func(t *testing.T, s *posture.SecureScore) {
				require.Len(t, s.Scores, 3)
				require.Equal(t, []float64{120, 110, 100}, []float64{s.Scores[0].CurrentScore, s.Scores[1].CurrentScore, s.Scores[2].CurrentScore})
				require.Equal(t, posture.Score{
					CreatedAt: testNow, CurrentScore: 120, MaxScore: 200, AverageScores: map[string]float64{"AllTenants": 55.5},
					ControlScores: []posture.ControlScore{{ControlName: "MFARegistrationV2", ControlCategory: "Identity", Score: 9}},
				}, s.Scores[0])
			},
		},
		{
			name:  "control profiles are converted",
			fault: func(*graphsim.Server) {},
			check: func(t *testing.T, s *posture.SecureScore) {
				require.Equal(t, []posture.ControlProfile{
					{ID: "MFARegistrationV2", Title: "Ensure all users can complete MFA", ControlCategory: "Identity", MaxScore: 9, Rank: 1, UserImpact: "Moderate", ActionURL: "https://security.microsoft.com"},
					{ID: "OldControl", Title: "Retired", ControlCategory: "Apps", MaxScore: 1, Rank: 99, Deprecated: true},
				}, s.Profiles)
			},
		},
		{
			name:  "a 403 on scores leaves them unknown and profiles read",
			fault: func(s *graphsim.Server) { s.ForceError("/security/secureScores", graphsim.InsufficientPrivileges()) },
			want:  map[string]posture.SourceStatus{posture.SrcSecureScores: posture.SourceForbidden},
			check: func(t *testing.T, s *posture.SecureScore) {
				require.Nil(t, s.Scores)
				require.Len(t, s.Profiles, 2)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
			tc.fault(srv)
			s, srcs := SecureScore(context.Background(), c, discardLogger())
			requireStatuses(t, srcs, tc.want)
			tc.check(t, s)
		})
	}
}

func TestBackup(t *testing.T) {
	notEnabled := graphsim.Fault{Status: 400, Code: "BadRequest", Message: "Backup service is not enabled for the tenant.", RetryAfter: -1}
	tests := []struct {
		name  string
		fault func(*graphsim.Server)
		want  map[string]posture.SourceStatus
		check func(t *testing.T, b *posture.Backup)
	}{
		{
			name:  "policies map their derived type to a workload",
			fault: func(*graphsim.Server) {},
			check: func(t *testing.T, b *posture.Backup) {
				require.Equal(t, "enabled", b.ServiceStatus)
				require.Equal(t, []posture.ProtectionPolicy{
					{ID: "pp-ex", DisplayName: "Mailboxes", Workload: "exchange", Status: "active", LastModified: testNow},
					{ID: "pp-sp", DisplayName: "Sites", Workload: "sharePoint", Status: "activeWithErrors", LastModified: testNow},
					{ID: "pp-od", DisplayName: "OneDrive", Workload: "oneDriveForBusiness", Status: "inactive", LastModified: testNow},
				}, b.Policies)
			},
		},
		{
			name:  "a tenant without Backup answers 400 and reads as not licensed",
			fault: func(s *graphsim.Server) { s.ForceError("/solutions/backupRestore", notEnabled) },
			want: map[string]posture.SourceStatus{
				posture.SrcBackupService:  posture.SourceNotLicensed,
				posture.SrcBackupPolicies: posture.SourceNotLicensed,
			},
			check: func(t *testing.T, b *posture.Backup) {
				require.Empty(t, b.ServiceStatus)
				require.Nil(t, b.Policies)
			},
		},
		{
			name:  "an app that is not a Backup controller is forbidden",
			fault: func(s *graphsim.Server) { s.ForceError("/solutions/backupRestore", graphsim.InsufficientPrivileges()) },
			want: map[string]posture.SourceStatus{
				posture.SrcBackupService:  posture.SourceForbidden,
				posture.SrcBackupPolicies: posture.SourceForbidden,
			},
			check: func(t *testing.T, b *posture.Backup) { require.Nil(t, b.Policies) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := newTestServer(t, smallTenant(), graphsim.Options{})
			tc.fault(srv)
			b, srcs := Backup(context.Background(), c, discardLogger())
			requireStatuses(t, srcs, tc.want)
			tc.check(t, b)
		})
	}
}
