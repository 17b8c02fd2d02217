package incident

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

func TestEntitiesFromEvidence(t *testing.T) {
	tests := []struct {
		name     string
		evidence []Evidence
		want     Entities
	}{
		{"user evidence gives the user's id and UPN, lower-cased",
			[]Evidence{{ODataType: ODataUserEvidence, UserAccount: &UserAccount{AzureAdUserID: "U-1", UserPrincipalName: "Ann@Contoso.com"}}},
			Entities{Users: []string{"ann@contoso.com", "u-1"}}},
		{"user evidence without an account gives nothing",
			[]Evidence{{ODataType: ODataUserEvidence}}, Entities{}},
		{"device evidence gives the defender id, entra id and dns name",
			[]Evidence{{ODataType: ODataDeviceEvidence, MdeDeviceID: "abc", AzureAdDeviceID: "D-1", DeviceDNSName: "PC1.contoso.com"}},
			Entities{Devices: []string{"abc", "d-1", "pc1.contoso.com"}}},
		{"mailbox evidence gives the mailbox and its user",
			[]Evidence{{ODataType: ODataMailboxEvidence, PrimaryAddress: "Ann@contoso.com", UserAccount: &UserAccount{AzureAdUserID: "u-1"}}},
			Entities{Users: []string{"u-1"}, Mailboxes: []string{"ann@contoso.com"}}},
		{"url evidence keeps the url's case",
			[]Evidence{{ODataType: ODataURLEvidence, URL: "https://evil.example/Login"}},
			Entities{URLs: []string{"https://evil.example/Login"}}},
		{"an analyzed message gives its recipient and its urls",
			[]Evidence{{ODataType: ODataAnalyzedMessageEvidence, RecipientEmailAddress: "bob@contoso.com", URLs: []string{"https://b.example", "https://a.example"}}},
			Entities{Mailboxes: []string{"bob@contoso.com"}, URLs: []string{"https://a.example", "https://b.example"}}},
		{"mailbox configuration evidence gives the mailbox and the user",
			[]Evidence{{ODataType: ODataMailboxConfigurationEvidence, MailboxPrimaryAddress: "ann@contoso.com", UPN: "ann@contoso.com", ExternalDirectoryObjectID: "u-1"}},
			Entities{Users: []string{"ann@contoso.com", "u-1"}, Mailboxes: []string{"ann@contoso.com"}}},
		{"unknown evidence types are ignored",
			[]Evidence{{ODataType: "#microsoft.graph.security.ipEvidence", URL: "https://ignored.example", MdeDeviceID: "x"}},
			Entities{}},
		{"the same user in two pieces of evidence appears once",
			[]Evidence{
				{ODataType: ODataUserEvidence, UserAccount: &UserAccount{AzureAdUserID: "u-1", UserPrincipalName: "ann@contoso.com"}},
				{ODataType: ODataMailboxEvidence, PrimaryAddress: " ", UserAccount: &UserAccount{AzureAdUserID: "U-1", UserPrincipalName: "ANN@contoso.com"}},
			},
			Entities{Users: []string{"ann@contoso.com", "u-1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, EntitiesFromEvidence(tc.evidence))
		})
	}
}

func TestFromAlertDecodesGraphJSON(t *testing.T) {
	raw := `{"id":"da1","tenantId":"t1","title":"Impossible travel activity","severity":"medium","status":"new",
	"classification":null,"determination":null,"serviceSource":"microsoftDefenderForCloudApps","detectionSource":"cloudAppSecurity",
	"category":"InitialAccess","createdDateTime":"2026-11-30T08:00:00Z","lastUpdateDateTime":"2026-11-30T08:05:00.1234567Z",
	"firstActivityDateTime":"2026-11-30T07:30:00Z","resolvedDateTime":null,
	"evidence":[{"@odata.type":"#microsoft.graph.security.userEvidence","verdict":"suspicious","userAccount":{"accountName":"ann","azureAdUserId":"u-1","userPrincipalName":"ann@contoso.com"}},
	{"@odata.type":"#microsoft.graph.security.ipEvidence","ipAddress":"1.2.3.4"}]}`
	var a AlertRecord
	require.NoError(t, json.Unmarshal([]byte(raw), &a))
	s := FromAlert(a)
	require.Equal(t, Signal{
		Source: SourceAlert, ID: "da1", TenantID: "t1", Category: CategoryAccountCompromise,
		Severity: "medium", Status: "new", Title: "Impossible travel activity",
		Entities:        Entities{Users: []string{"ann@contoso.com", "u-1"}},
		FirstActivityAt: t0.Add(-30 * time.Minute), CreatedAt: t0,
		LastUpdateAt: time.Date(2026, 11, 30, 8, 5, 0, 123456700, time.UTC),
	}, s)
}

func TestFromRiskyUser(t *testing.T) {
	u := RiskyUserRecord{ID: "U-1", UserPrincipalName: "Ann@contoso.com", RiskLevel: "high", RiskState: "atRisk",
		RiskDetail: "none", RiskLastUpdatedDateTime: t0.Add(2 * time.Hour)}
	tests := []struct {
		name       string
		user       RiskyUserRecord
		detections []RiskDetectionRecord
		want       Signal
	}{
		{"detections give the first activity and the detection time", u,
			[]RiskDetectionRecord{
				{UserID: "U-1", ActivityDateTime: t0.Add(-time.Hour), DetectedDateTime: t0.Add(time.Hour)},
				{UserID: "U-1", ActivityDateTime: t0.Add(-2 * time.Hour), DetectedDateTime: t0},
				{UserID: "other", ActivityDateTime: t0.Add(-9 * time.Hour), DetectedDateTime: t0.Add(-9 * time.Hour)},
			},
			Signal{Source: SourceRiskyUser, ID: "riskyUser:u-1:2026-11-30T08:00:00Z", TenantID: "t1", Category: CategoryAccountCompromise,
				Severity: "high", Status: "atRisk", Title: "Risky user: high risk, atRisk",
				Entities:        Entities{Users: []string{"ann@contoso.com", "u-1"}},
				FirstActivityAt: t0.Add(-2 * time.Hour), CreatedAt: t0, LastUpdateAt: t0.Add(2 * time.Hour)}},
		{"without detections the risk's last update is the detection time",
			RiskyUserRecord{ID: "u-1", RiskLevel: "high", RiskState: "confirmedCompromised", RiskDetail: "adminConfirmedUserCompromised", RiskLastUpdatedDateTime: t0},
			nil,
			Signal{Source: SourceRiskyUser, ID: "riskyUser:u-1:2026-11-30T08:00:00Z", TenantID: "t1", Category: CategoryAccountCompromise,
				Severity: "high", Status: "confirmedCompromised", Title: "Risky user: high risk, confirmedCompromised (adminConfirmedUserCompromised)",
				Entities:        Entities{Users: []string{"u-1"}},
				FirstActivityAt: t0, CreatedAt: t0, LastUpdateAt: t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, FromRiskyUser("t1", tc.user, tc.detections))
		})
	}
}

func TestFromDirectoryChange(t *testing.T) {
	s := FromDirectoryChange(DirectoryChange{ID: "role:ga:u-1", TenantID: "t1", Title: "New Global Administrator",
		Severity: "high", UserID: "U-1", UserPrincipalName: "ann@contoso.com", At: t0})
	require.Equal(t, Signal{Source: SourceDirectoryChange, ID: "directoryChange:role:ga:u-1", TenantID: "t1",
		Category: CategoryAccountCompromise, Severity: "high", Title: "New Global Administrator",
		Entities:        Entities{Users: []string{"ann@contoso.com", "u-1"}},
		FirstActivityAt: t0, CreatedAt: t0, LastUpdateAt: t0}, s)
}

func TestEarliest(t *testing.T) {
	tests := []struct {
		name string
		a, b time.Time
		want time.Time
	}{
		{"a zero first value gives the second", time.Time{}, t0, t0},
		{"a zero second value keeps the first", t0, time.Time{}, t0},
		{"the earlier of two wins", t0, t0.Add(-time.Nanosecond), t0.Add(-time.Nanosecond)},
		{"a later second value keeps the first", t0, t0.Add(time.Nanosecond), t0},
		{"equal values give that value", t0, t0, t0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, earliest(tc.a, tc.b))
		})
	}
}
