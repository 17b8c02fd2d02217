package collect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/identityprotection"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/security"
	graphsecurity "github.com/microsoftgraph/msgraph-sdk-go/security"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"m365security/shared/graph"
	"m365security/shared/incident"
)

// Signal reads: the security signals the poller and the delta backstop
// need, through the same SDK client and paging as the posture collectors.
// Each takes wait, called before every request, so the caller paces a
// tenant's requests to the service's limit (the security API allows 150 a
// minute per app and tenant; Identity Protection 1 a second per tenant).

// Pace is called before each request; it returns an error when the caller's
// context ends.
type Pace func(context.Context) error

// pacedPages is listPages with wait before every request, so a tenant's
// requests keep to the service's limit.
func pacedPages[P pager](ctx context.Context, r *reader, op string, wait Pace,
	first func(context.Context) (P, error), next func(context.Context, string) (P, error), each func(P) error,
) error {
	var zero P
	return listPages(ctx, r, op,
		func(ctx context.Context) (P, error) {
			if err := wait(ctx); err != nil {
				return zero, err
			}
			return first(ctx)
		},
		func(ctx context.Context, link string) (P, error) {
			if err := wait(ctx); err != nil {
				return zero, err
			}
			return next(ctx, link)
		}, each)
}

// alertsPageSize is the security API's documented maximum $top.
const alertsPageSize = 1000

// Alerts lists alerts_v2 updated at or after since, following nextLink, with
// Prefer: include-unknown-enum-members so evolvable enums added after
// unknownFutureValue arrive with their names. At most maxPages pages are
// read; more pending is reported by truncated (the next poll continues
// from the newest update stored).
func Alerts(ctx context.Context, c *graph.Reader, since time.Time, maxPages int, wait Pace) (out []incident.AlertRecord, truncated bool, err error) {
	b := c.SDK().Security().Alerts_v2()
	headers := abstractions.NewRequestHeaders()
	headers.Add("Prefer", "include-unknown-enum-members")
	cfg := &graphsecurity.Alerts_v2RequestBuilderGetRequestConfiguration{
		Headers: headers,
		QueryParameters: &graphsecurity.Alerts_v2RequestBuilderGetQueryParameters{
			Filter: ptr("lastUpdateDateTime ge " + since.UTC().Format(time.RFC3339)),
			Top:    ptr(int32(alertsPageSize)),
		},
	}
	next := &graphsecurity.Alerts_v2RequestBuilderGetRequestConfiguration{Headers: headers}
	r := &reader{c: c}
	pages := 0
	stop := errors.New("page limit")
	err = pacedPages(ctx, r, "list alerts", wait,
		func(ctx context.Context) (security.AlertCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (security.AlertCollectionResponseable, error) {
			if pages >= maxPages {
				return nil, stop
			}
			return b.WithUrl(link).Get(ctx, next)
		},
		func(p security.AlertCollectionResponseable) error {
			pages++
			for _, a := range p.GetValue() {
				out = append(out, alertRecord(a))
			}
			return nil
		})
	if errors.Is(err, stop) {
		return out, true, nil
	}
	return out, false, err
}

func alertRecord(a security.Alertable) incident.AlertRecord {
	rec := incident.AlertRecord{
		ID: deref(a.GetId()), TenantID: deref(a.GetTenantId()), IncidentID: deref(a.GetIncidentId()),
		Title: deref(a.GetTitle()), Severity: enumString(a.GetSeverity()), Status: enumString(a.GetStatus()),
		Classification: enumString(a.GetClassification()), Determination: enumString(a.GetDetermination()),
		ServiceSource: enumString(a.GetServiceSource()), DetectionSource: enumString(a.GetDetectionSource()),
		ProductName: deref(a.GetProductName()), Category: deref(a.GetCategory()),
		CreatedDateTime: timeOf(a.GetCreatedDateTime()), LastUpdateDateTime: timeOf(a.GetLastUpdateDateTime()),
		FirstActivityDateTime: timeOf(a.GetFirstActivityDateTime()), ResolvedDateTime: timeOf(a.GetResolvedDateTime()),
	}
	for _, e := range a.GetEvidence() {
		if ev, ok := evidenceRecord(e); ok {
			rec.Evidence = append(rec.Evidence, ev)
		}
	}
	return rec
}

func account(u security.UserAccountable) *incident.UserAccount {
	if u == nil {
		return nil
	}
	return &incident.UserAccount{AzureAdUserID: deref(u.GetAzureAdUserId()), UserPrincipalName: deref(u.GetUserPrincipalName()),
		AccountName: deref(u.GetAccountName())}
}

// evidenceRecord converts the evidence types that name a user, device,
// mailbox, message or url; others say nothing about whom and are dropped.
func evidenceRecord(e security.AlertEvidenceable) (incident.Evidence, bool) {
	switch v := e.(type) {
	case security.UserEvidenceable:
		return incident.Evidence{ODataType: incident.ODataUserEvidence, UserAccount: account(v.GetUserAccount())}, true
	case security.DeviceEvidenceable:
		return incident.Evidence{ODataType: incident.ODataDeviceEvidence, MdeDeviceID: deref(v.GetMdeDeviceId()),
			AzureAdDeviceID: deref(v.GetAzureAdDeviceId()), DeviceDNSName: deref(v.GetDeviceDnsName())}, true
	case security.MailboxEvidenceable:
		return incident.Evidence{ODataType: incident.ODataMailboxEvidence, PrimaryAddress: deref(v.GetPrimaryAddress()),
			UserAccount: account(v.GetUserAccount())}, true
	case security.UrlEvidenceable:
		return incident.Evidence{ODataType: incident.ODataURLEvidence, URL: deref(v.GetUrl())}, true
	case security.AnalyzedMessageEvidenceable:
		return incident.Evidence{ODataType: incident.ODataAnalyzedMessageEvidence, RecipientEmailAddress: deref(v.GetRecipientEmailAddress()),
			NetworkMessageID: deref(v.GetNetworkMessageId()), URLs: v.GetUrls()}, true
	case security.MailboxConfigurationEvidenceable:
		ev := incident.Evidence{ODataType: incident.ODataMailboxConfigurationEvidence, MailboxPrimaryAddress: deref(v.GetMailboxPrimaryAddress()),
			UPN: deref(v.GetUpn()), ConfigurationID: deref(v.GetConfigurationId()), ConfigurationType: enumString(v.GetConfigurationType())}
		if id := v.GetExternalDirectoryObjectId(); id != nil {
			ev.ExternalDirectoryObjectID = id.String()
		}
		return ev, true
	}
	return incident.Evidence{}, false
}

// riskySignalFilter selects the risky users that are signals.
const riskySignalFilter = "riskLevel eq 'high' and (riskState eq 'atRisk' or riskState eq 'confirmedCompromised')"

// RiskyUsers lists high-risk users who are at risk or confirmed
// compromised: the account-compromise signals.
func RiskyUsers(ctx context.Context, c *graph.Reader, wait Pace) ([]incident.RiskyUserRecord, error) {
	b := c.SDK().IdentityProtection().RiskyUsers()
	cfg := &identityprotection.RiskyUsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &identityprotection.RiskyUsersRequestBuilderGetQueryParameters{
			Filter: ptr(riskySignalFilter), Top: ptr(int32(riskyUsersPageSize)),
		},
	}
	var out []incident.RiskyUserRecord
	r := &reader{c: c}
	err := pacedPages(ctx, r, "list risky users", wait,
		func(ctx context.Context) (models.RiskyUserCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (models.RiskyUserCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.RiskyUserCollectionResponseable) error {
			for _, u := range p.GetValue() {
				out = append(out, incident.RiskyUserRecord{
					ID: deref(u.GetId()), UserPrincipalName: deref(u.GetUserPrincipalName()), UserDisplayName: deref(u.GetUserDisplayName()),
					RiskLevel: enumString(u.GetRiskLevel()), RiskState: enumString(u.GetRiskState()), RiskDetail: enumString(u.GetRiskDetail()),
					RiskLastUpdatedDateTime: timeOf(u.GetRiskLastUpdatedDateTime()),
				})
			}
			return nil
		})
	return out, err
}

// RiskDetections lists risk detections detected at or after since: when the
// risky activity happened, for the signals' first-activity time.
func RiskDetections(ctx context.Context, c *graph.Reader, since time.Time, wait Pace) ([]incident.RiskDetectionRecord, error) {
	b := c.SDK().IdentityProtection().RiskDetections()
	cfg := &identityprotection.RiskDetectionsRequestBuilderGetRequestConfiguration{
		QueryParameters: &identityprotection.RiskDetectionsRequestBuilderGetQueryParameters{
			Filter: ptr("detectedDateTime ge " + since.UTC().Format(time.RFC3339)), Top: ptr(int32(riskyUsersPageSize)),
		},
	}
	var out []incident.RiskDetectionRecord
	r := &reader{c: c}
	err := pacedPages(ctx, r, "list risk detections", wait,
		func(ctx context.Context) (models.RiskDetectionCollectionResponseable, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, link string) (models.RiskDetectionCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.RiskDetectionCollectionResponseable) error {
			for _, d := range p.GetValue() {
				out = append(out, incident.RiskDetectionRecord{ID: deref(d.GetId()), UserID: deref(d.GetUserId()),
					RiskEventType: deref(d.GetRiskEventType()), ActivityDateTime: timeOf(d.GetActivityDateTime()),
					DetectedDateTime: timeOf(d.GetDetectedDateTime())})
			}
			return nil
		})
	return out, err
}

// DeltaChange is one object a delta round reported as changed.
type DeltaChange struct {
	ID      string
	Removed bool
}

// DeltaResult is one delta round: what changed and the link to continue from.
type DeltaResult struct {
	Changes   []DeltaChange
	DeltaLink string
	// Resync is true when the stored link was refused (410 Gone or an
	// expired token) and this round started over with a full sync.
	Resync bool
}

// ErrDeltaExpired marks a delta link Graph no longer accepts.
var ErrDeltaExpired = errors.New("delta token expired")

// maxDeltaPages bounds one delta round (a full sync of 200k objects at
// Graph's page size); beyond it the round fails rather than run unbounded.
const maxDeltaPages = 2000

// Delta runs one delta round for "users" or "groups": from link (the stored
// deltaLink) when given, else a full sync. A refused link (410 Gone, or
// Graph's syncStateNotFound / resyncRequired) starts a full sync, reported
// as Resync.
func Delta(ctx context.Context, c *graph.Reader, kind, link string, wait Pace) (DeltaResult, error) {
	res, err := delta(ctx, c, kind, link, wait)
	if link != "" && errors.Is(err, ErrDeltaExpired) {
		res, err = delta(ctx, c, kind, "", wait)
		res.Resync = true
	}
	return res, err
}

type deltaPage interface {
	GetOdataNextLink() *string
	GetOdataDeltaLink() *string
}

func delta(ctx context.Context, c *graph.Reader, kind, link string, wait Pace) (DeltaResult, error) {
	var res DeltaResult
	op := "delta " + kind
	if link != "" {
		if _, err := followable(c.BaseURL(), link); err != nil {
			return res, fmt.Errorf("%s: stored %w", op, err)
		}
	}
	get := func(ctx context.Context, link string) (deltaPage, []DeltaChange, error) {
		if err := wait(ctx); err != nil {
			return nil, nil, err
		}
		if kind == "users" {
			b := c.SDK().Users().Delta()
			if link != "" {
				b = users.NewDeltaRequestBuilder(link, c.SDK().GetAdapter())
			}
			p, err := b.GetAsDeltaGetResponse(ctx, nil)
			if err != nil || p == nil {
				return nil, nil, err
			}
			var ch []DeltaChange
			for _, u := range p.GetValue() {
				ch = append(ch, DeltaChange{ID: deref(u.GetId()), Removed: removed(u.GetAdditionalData())})
			}
			return p, ch, nil
		}
		b := c.SDK().Groups().Delta()
		if link != "" {
			b = groups.NewDeltaRequestBuilder(link, c.SDK().GetAdapter())
		}
		p, err := b.GetAsDeltaGetResponse(ctx, nil)
		if err != nil || p == nil {
			return nil, nil, err
		}
		var ch []DeltaChange
		for _, g := range p.GetValue() {
			ch = append(ch, DeltaChange{ID: deref(g.GetId()), Removed: removed(g.GetAdditionalData())})
		}
		return p, ch, nil
	}
	prev := ""
	for pages := 0; ; pages++ {
		if pages >= maxDeltaPages {
			return res, fmt.Errorf("%s: more than %d pages", op, maxDeltaPages)
		}
		p, ch, err := get(ctx, link)
		if err != nil {
			err = wrap(op, err)
			var ge *graph.Error
			if errors.As(err, &ge) && (ge.Status == http.StatusGone || strings.EqualFold(ge.Code, "syncStateNotFound") || strings.EqualFold(ge.Code, "resyncRequired")) {
				return res, fmt.Errorf("%s: %w: %w", op, ErrDeltaExpired, err)
			}
			return res, err
		}
		if p == nil {
			return res, fmt.Errorf("%s: empty response", op)
		}
		res.Changes = append(res.Changes, ch...)
		if dl := deref(p.GetOdataDeltaLink()); dl != "" {
			res.DeltaLink = dl
			return res, nil
		}
		next := deref(p.GetOdataNextLink())
		if next == "" {
			return res, fmt.Errorf("%s: a page had neither nextLink nor deltaLink", op)
		}
		if next == prev {
			return res, fmt.Errorf("%s: Graph returned the same nextLink twice", op)
		}
		if _, err := followable(c.BaseURL(), next); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
		prev, link = next, next
	}
}

// removed reports Graph's @removed annotation on a delta item.
func removed(extra map[string]any) bool {
	_, ok := extra["@removed"]
	return ok
}
