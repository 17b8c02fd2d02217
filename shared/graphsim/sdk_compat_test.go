//go:build graphsim_sdk

// This test drives the simulator with the real msgraph-sdk-go client. It is
// behind a build tag so the package and its default tests never link the
// SDK: go test -tags graphsim_sdk ./shared/graphsim/
package graphsim_test

import (
	"context"
	"errors"
	"testing"

	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/models/security"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/stretchr/testify/require"

	"m365security/shared/graphsim"
)

func TestTheRealSDKReadsTheSimulator(t *testing.T) {
	ctx := context.Background()
	tn := graphsim.Generate(7, graphsim.DefaultSize())
	s := graphsim.NewServer(tn, graphsim.Options{})
	require.NoError(t, s.Start())
	t.Cleanup(func() { s.Close() })
	opts := msgraphsdk.GetDefaultClientOptions()
	hc := khttp.GetDefaultClient(msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...)
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(&absauth.AnonymousAuthenticationProvider{}, nil, nil, hc)
	require.NoError(t, err)
	adapter.SetBaseUrl(s.BaseURL())
	client := msgraphsdk.NewGraphServiceClient(adapter)

	t.Run("the page iterator reads every user through throttling", func(t *testing.T) {
		s.SetThrottle(graphsim.Throttle{EveryN: 4, RetryAfter: 0})
		defer s.SetThrottle(graphsim.Throttle{})
		top := int32(7)
		res, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
			Select: []string{"id", "accountEnabled", "signInActivity", "userType"}, Top: &top}})
		require.NoError(t, err)
		it, err := msgraphcore.NewPageIterator[models.Userable](res, adapter, models.CreateUserCollectionResponseFromDiscriminatorValue)
		require.NoError(t, err)
		n := 0
		require.NoError(t, it.Iterate(ctx, func(u models.Userable) bool {
			n++
			require.NotNil(t, u.GetAccountEnabled())
			return true
		}))
		require.Equal(t, len(tn.Users), n)
		require.Positive(t, s.Stats().ByStatus[429])
	})

	t.Run("directory objects are typed by @odata.type", func(t *testing.T) {
		mem, err := client.Groups().ByGroupId(tn.Groups[1].ID).TransitiveMembers().Get(ctx, nil)
		require.NoError(t, err)
		require.NotEmpty(t, mem.GetValue())
		for _, m := range mem.GetValue() {
			_, ok := m.(models.Userable)
			require.True(t, ok, "%T", m)
		}
	})

	t.Run("conditional access policies and named locations parse", func(t *testing.T) {
		pols, err := client.Identity().ConditionalAccess().Policies().Get(ctx, nil)
		require.NoError(t, err)
		strength := 0
		for _, p := range pols.GetValue() {
			if g := p.GetGrantControls(); g != nil && g.GetAuthenticationStrength() != nil {
				strength++
				require.NotEmpty(t, g.GetAuthenticationStrength().GetAllowedCombinations())
			}
			require.NotNil(t, p.GetConditions().GetUsers())
		}
		require.Equal(t, 1, strength)
		locs, err := client.Identity().ConditionalAccess().NamedLocations().Get(ctx, nil)
		require.NoError(t, err)
		ip, ok := locs.GetValue()[0].(models.IpNamedLocationable)
		require.True(t, ok, "%T", locs.GetValue()[0])
		_, ok = ip.GetIpRanges()[0].(models.IPv4CidrRangeable)
		require.True(t, ok)
		_, ok = locs.GetValue()[2].(models.CountryNamedLocationable)
		require.True(t, ok)
	})

	t.Run("devices and their protection state parse", func(t *testing.T) {
		var win string
		for _, d := range tn.ManagedDevices {
			if d.WindowsProtectionState != nil {
				win = d.ID
				break
			}
		}
		wps, err := client.DeviceManagement().ManagedDevices().ByManagedDeviceId(win).WindowsProtectionState().Get(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, wps.GetLastReportedDateTime())
		require.NotNil(t, wps.GetProductStatus())
		devs, err := client.DeviceManagement().ManagedDevices().Get(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, devs.GetValue()[0].GetComplianceState())
	})

	t.Run("alert evidence is typed", func(t *testing.T) {
		alerts, err := client.Security().Alerts_v2().Get(ctx, nil)
		require.NoError(t, err)
		kinds := map[string]int{}
		for _, a := range alerts.GetValue() {
			for _, e := range a.GetEvidence() {
				switch e.(type) {
				case security.UserEvidenceable:
					kinds["user"]++
				case security.DeviceEvidenceable:
					kinds["device"]++
				case security.MailboxEvidenceable:
					kinds["mailbox"]++
				case security.UrlEvidenceable:
					kinds["url"]++
				default:
					t.Fatalf("evidence %T", e)
				}
			}
		}
		require.Len(t, kinds, 4)
	})

	t.Run("singletons and other collections parse", func(t *testing.T) {
		pp, err := client.Solutions().BackupRestore().ProtectionPolicies().Get(ctx, nil)
		require.NoError(t, err)
		_, ok := pp.GetValue()[0].(models.ExchangeProtectionPolicyable)
		require.True(t, ok, "%T", pp.GetValue()[0])
		br, err := client.Solutions().BackupRestore().Get(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, br.GetServiceStatus().GetStatus())
		ap, err := client.Policies().AuthorizationPolicy().Get(ctx, nil)
		require.NoError(t, err)
		require.True(t, *ap.GetDefaultUserRolePermissions().GetAllowedToCreateApps())
		sd, err := client.Policies().IdentitySecurityDefaultsEnforcementPolicy().Get(ctx, nil)
		require.NoError(t, err)
		require.False(t, *sd.GetIsEnabled())
		ss, err := client.Security().SecureScores().Get(ctx, nil)
		require.NoError(t, err)
		require.Len(t, ss.GetValue(), 90)
		rel, err := client.RoleManagement().Directory().RoleEligibilitySchedules().Get(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, rel.GetValue()[0].GetScheduleInfo().GetExpiration().GetTypeEscaped())
		reg, err := client.Reports().AuthenticationMethods().UserRegistrationDetails().Get(ctx, nil)
		require.NoError(t, err)
		require.NotEmpty(t, reg.GetValue()[0].GetMethodsRegistered())
		ru, err := client.IdentityProtection().RiskyUsers().Get(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, ru.GetValue()[0].GetRiskState())
	})

	t.Run("errors surface as ODataError with Graph's codes", func(t *testing.T) {
		_, err := client.Users().ByUserId("nope").Get(ctx, nil)
		var oe *odataerrors.ODataError
		require.True(t, errors.As(err, &oe), "%v", err)
		require.Equal(t, 404, oe.ResponseStatusCode)
		require.Equal(t, "Request_ResourceNotFound", *oe.GetErrorEscaped().GetCode())
		s.ForceError("/identityProtection", graphsim.NotLicensedP2())
		defer s.ClearFaults()
		_, err = client.IdentityProtection().RiskyUsers().Get(ctx, nil)
		require.True(t, errors.As(err, &oe), "%v", err)
		require.Equal(t, 403, oe.ResponseStatusCode)
		require.Equal(t, "Forbidden", *oe.GetErrorEscaped().GetCode())
	})

	t.Run("the SDK's gzipped batch is answered", func(t *testing.T) {
		batch := msgraphcore.NewBatchRequest(adapter)
		ri, err := client.Users().ToGetRequestInformation(ctx, nil)
		require.NoError(t, err)
		item, err := batch.AddBatchRequestStep(*ri)
		require.NoError(t, err)
		resp, err := batch.Send(ctx, adapter)
		require.NoError(t, err)
		col, err := msgraphcore.GetBatchResponseById[models.UserCollectionResponseable](resp, *item.GetId(), models.CreateUserCollectionResponseFromDiscriminatorValue)
		require.NoError(t, err)
		require.Len(t, col.GetValue(), 100)
		require.NotNil(t, col.GetOdataNextLink())
	})
}
