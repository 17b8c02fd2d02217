package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/devicemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/identityprotection"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	security "github.com/microsoftgraph/msgraph-sdk-go/models/security"
)

// Response actions on users, mailboxes, messages, devices and alerts. Each
// sends exactly the body Graph documents (see WriteOperations for the
// permissions): the SDK models' default @odata.type is cleared where Graph's
// example body has none.

// RevokeSignInSessions invalidates the user's refresh tokens and session
// cookies (POST /users/{id}/revokeSignInSessions). It takes Graph a few
// minutes to take effect.
func (w *Writer) RevokeSignInSessions(ctx context.Context, userID string) error {
	op := "revoke sign-in sessions of " + userID
	if err := w.check(op, userID); err != nil {
		return err
	}
	res, err := w.sdk.Users().ByUserId(userID).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil)
	if err != nil {
		return Wrap(op, err)
	}
	// Graph answers {"value": true}; false would mean nothing was revoked.
	if res != nil && res.GetValue() != nil && !*res.GetValue() {
		return &Error{Op: op, Status: 200, Message: "Graph answered false"}
	}
	return nil
}

// DisableAccount blocks the user's sign-in (PATCH /users/{id}
// {"accountEnabled": false}).
func (w *Writer) DisableAccount(ctx context.Context, userID string) error {
	return w.setAccountEnabled(ctx, "disable account "+userID, userID, false)
}

// EnableAccount allows the user's sign-in again, the undo of DisableAccount.
func (w *Writer) EnableAccount(ctx context.Context, userID string) error {
	return w.setAccountEnabled(ctx, "enable account "+userID, userID, true)
}

func (w *Writer) setAccountEnabled(ctx context.Context, op, userID string, enabled bool) error {
	if err := w.check(op, userID); err != nil {
		return err
	}
	u := bare(models.NewUser())
	u.SetAccountEnabled(ptr(enabled))
	_, err := w.sdk.Users().ByUserId(userID).Patch(ctx, u, nil)
	return Wrap(op, err)
}

// RequirePasswordChange makes the user change their password at the next
// sign-in (PATCH /users/{id} passwordProfile.forceChangePasswordNextSignIn),
// without setting a password the product would then have to hold.
func (w *Writer) RequirePasswordChange(ctx context.Context, userID string) error {
	op := "require a password change of " + userID
	if err := w.check(op, userID); err != nil {
		return err
	}
	p := bare(models.NewPasswordProfile())
	p.SetForceChangePasswordNextSignIn(ptr(true))
	u := bare(models.NewUser())
	u.SetPasswordProfile(p)
	_, err := w.sdk.Users().ByUserId(userID).Patch(ctx, u, nil)
	return Wrap(op, err)
}

// ConfirmCompromised marks users as compromised in Identity Protection,
// which raises their user risk to high (POST
// /identityProtection/riskyUsers/confirmCompromised; Entra ID P2).
func (w *Writer) ConfirmCompromised(ctx context.Context, userIDs ...string) error {
	op := fmt.Sprintf("confirm compromised %v", userIDs)
	if len(userIDs) == 0 {
		return invalid(op, "no users given")
	}
	if err := w.check(op, userIDs...); err != nil {
		return err
	}
	body := identityprotection.NewRiskyUsersConfirmCompromisedPostRequestBody()
	body.SetUserIds(slices.Clone(userIDs))
	return Wrap(op, w.sdk.IdentityProtection().RiskyUsers().ConfirmCompromised().Post(ctx, body, nil))
}

// DisableInboxRule turns off one of the user's inbox rules (PATCH
// /users/{id}/mailFolders/inbox/messageRules/{ruleId} {"isEnabled": false}).
// It keeps the rule, so the evidence and the undo stay possible.
func (w *Writer) DisableInboxRule(ctx context.Context, userID, ruleID string) error {
	op := fmt.Sprintf("disable inbox rule %s of %s", ruleID, userID)
	if err := w.check(op, userID, ruleID); err != nil {
		return err
	}
	r := bare(models.NewMessageRule())
	r.SetIsEnabled(ptr(false))
	_, err := w.sdk.Users().ByUserId(userID).MailFolders().ByMailFolderId("inbox").MessageRules().ByMessageRuleId(ruleID).Patch(ctx, r, nil)
	return Wrap(op, err)
}

// Remediation asks Defender for Office 365 to act on delivered messages.
type Remediation struct {
	// DisplayName and Description name the remediation in Action Center.
	DisplayName, Description string
	// Severity is low, medium or high.
	Severity string
	// Action is moveToJunk, moveToInbox, hardDelete, softDelete or
	// moveToDeletedItems.
	Action string
	// RemediateSendersCopy also acts on the sender's copy.
	RemediateSendersCopy bool
	Messages             []AnalyzedEmail
}

// AnalyzedEmail names one delivered message copy.
type AnalyzedEmail struct {
	NetworkMessageID      string `json:"networkMessageId"`
	RecipientEmailAddress string `json:"recipientEmailAddress"`
}

var (
	remediationSeverities = []string{"low", "medium", "high"}
	remediationActions    = []string{"moveToJunk", "moveToInbox", "hardDelete", "softDelete", "moveToDeletedItems"}
)

// RemediateMessages submits a remediation (POST
// /security/collaboration/analyzedEmails/remediate; Defender for Office 365
// Plan 2) and returns the Location Graph gives, the Action Center entry that
// tracks it. msgraph-sdk-go v1.89.0 has no builder for this path, so the
// request is built here and sent through the SDK's request adapter, with its
// middleware and error mapping.
func (w *Writer) RemediateMessages(ctx context.Context, r Remediation) (string, error) {
	op := fmt.Sprintf("remediate %d messages (%s)", len(r.Messages), r.Action)
	if err := w.ready(op); err != nil {
		return "", err
	}
	switch {
	case r.DisplayName == "":
		return "", invalid(op, "a display name is required")
	case !slices.Contains(remediationSeverities, r.Severity):
		return "", invalid(op, "severity %q is not one of %v", r.Severity, remediationSeverities)
	case !slices.Contains(remediationActions, r.Action):
		return "", invalid(op, "action %q is not one of %v", r.Action, remediationActions)
	case len(r.Messages) == 0:
		return "", invalid(op, "no messages given")
	}
	for _, m := range r.Messages {
		if m.NetworkMessageID == "" || m.RecipientEmailAddress == "" {
			return "", invalid(op, "every message needs a network message id and a recipient")
		}
	}
	body, err := json.Marshal(struct {
		DisplayName          string          `json:"displayName"`
		Description          string          `json:"description,omitempty"`
		Severity             string          `json:"severity"`
		Action               string          `json:"action"`
		RemediateSendersCopy bool            `json:"remediateSendersCopy"`
		AnalyzedEmails       []AnalyzedEmail `json:"analyzedEmails"`
	}{r.DisplayName, r.Description, r.Severity, r.Action, r.RemediateSendersCopy, r.Messages})
	if err != nil {
		return "", fmt.Errorf("%s: encode: %w", op, err)
	}
	info := abstractions.NewRequestInformation()
	info.Method = abstractions.POST
	info.UrlTemplate = "{+baseurl}/security/collaboration/analyzedEmails/remediate"
	info.PathParameters["baseurl"] = w.adapter.GetBaseUrl()
	info.Headers.TryAdd("Accept", "application/json")
	info.SetStreamContentAndContentType(body, "application/json")
	headers := khttp.NewHeadersInspectionOptions()
	headers.InspectResponseHeaders = true
	info.AddRequestOptions([]abstractions.RequestOption{headers})
	err = w.adapter.SendNoContent(ctx, info, abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return "", Wrap(op, err)
	}
	var location string
	if l := headers.GetResponseHeaders().Get("Location"); len(l) > 0 {
		location = l[0]
	}
	return location, nil
}

// DefenderScan starts a Microsoft Defender Antivirus scan on a Windows
// device (POST /deviceManagement/managedDevices/{id}/windowsDefenderScan).
func (w *Writer) DefenderScan(ctx context.Context, deviceID string, quick bool) error {
	op := "start defender scan on device " + deviceID
	if err := w.check(op, deviceID); err != nil {
		return err
	}
	body := devicemanagement.NewManagedDevicesItemWindowsDefenderScanPostRequestBody()
	body.SetQuickScan(ptr(quick))
	return Wrap(op, w.device(deviceID).WindowsDefenderScan().Post(ctx, body, nil))
}

// RemoteLock locks the device (POST …/managedDevices/{id}/remoteLock).
func (w *Writer) RemoteLock(ctx context.Context, deviceID string) error {
	op := "lock device " + deviceID
	if err := w.check(op, deviceID); err != nil {
		return err
	}
	return Wrap(op, w.device(deviceID).RemoteLock().Post(ctx, nil))
}

// Retire removes company data and management from the device, leaving
// personal data (POST …/managedDevices/{id}/retire).
func (w *Writer) Retire(ctx context.Context, deviceID string) error {
	op := "retire device " + deviceID
	if err := w.check(op, deviceID); err != nil {
		return err
	}
	return Wrap(op, w.device(deviceID).Retire().Post(ctx, nil))
}

// WipeOptions are the wipe's documented parameters; the zero value is a
// full factory reset.
type WipeOptions struct {
	KeepEnrollmentData, KeepUserData, PersistEsimDataPlan bool
	// MacOSUnlockCode is the 6-digit PIN macOS devices need; empty for others.
	MacOSUnlockCode string
}

// Wipe resets the device (POST …/managedDevices/{id}/wipe).
func (w *Writer) Wipe(ctx context.Context, deviceID string, o WipeOptions) error {
	op := "wipe device " + deviceID
	if err := w.check(op, deviceID); err != nil {
		return err
	}
	body := devicemanagement.NewManagedDevicesItemWipePostRequestBody()
	body.SetKeepEnrollmentData(ptr(o.KeepEnrollmentData))
	body.SetKeepUserData(ptr(o.KeepUserData))
	body.SetPersistEsimDataPlan(ptr(o.PersistEsimDataPlan))
	if o.MacOSUnlockCode != "" {
		body.SetMacOsUnlockCode(ptr(o.MacOSUnlockCode))
	}
	return Wrap(op, w.device(deviceID).Wipe().Post(ctx, body, nil))
}

func (w *Writer) device(id string) *devicemanagement.ManagedDevicesManagedDeviceItemRequestBuilder {
	return w.sdk.DeviceManagement().ManagedDevices().ByManagedDeviceId(id)
}

// AlertUpdate holds the alert properties Graph lets a client write; an
// empty field is left unchanged. Comment, when set, is posted after the
// update (Graph takes comments on their own endpoint, not in the PATCH).
type AlertUpdate struct {
	// Status is new, inProgress or resolved.
	Status string
	// Classification is falsePositive, truePositive or
	// informationalExpectedActivity.
	Classification string
	// Determination is Graph's alertDetermination (malware, phishing,
	// compromisedUser, ...).
	Determination string
	// AssignedTo is the owner, usually a UPN.
	AssignedTo string
	Comment    string
}

// UpdateAlert writes status, classification, determination and owner back
// to a Defender alert (PATCH /security/alerts_v2/{id}), then posts the
// comment if there is one.
func (w *Writer) UpdateAlert(ctx context.Context, alertID string, u AlertUpdate) error {
	op := "update alert " + alertID
	if err := w.check(op, alertID); err != nil {
		return err
	}
	a := bare(security.NewAlert())
	changed := false
	if u.Status != "" {
		v, err := security.ParseAlertStatus(u.Status)
		if err != nil || v == nil {
			return invalid(op, "status %q is not an alert status", u.Status)
		}
		a.SetStatus(v.(*security.AlertStatus))
		changed = true
	}
	if u.Classification != "" {
		v, err := security.ParseAlertClassification(u.Classification)
		if err != nil || v == nil {
			return invalid(op, "classification %q is not an alert classification", u.Classification)
		}
		a.SetClassification(v.(*security.AlertClassification))
		changed = true
	}
	if u.Determination != "" {
		v, err := security.ParseAlertDetermination(u.Determination)
		if err != nil || v == nil {
			return invalid(op, "determination %q is not an alert determination", u.Determination)
		}
		a.SetDetermination(v.(*security.AlertDetermination))
		changed = true
	}
	if u.AssignedTo != "" {
		a.SetAssignedTo(ptr(u.AssignedTo))
		changed = true
	}
	if !changed && u.Comment == "" {
		return invalid(op, "nothing to update")
	}
	if changed {
		if _, err := w.sdk.Security().Alerts_v2().ByAlertId(alertID).Patch(ctx, a, nil); err != nil {
			return Wrap(op, err)
		}
	}
	if u.Comment != "" {
		return w.CommentOnAlert(ctx, alertID, u.Comment)
	}
	return nil
}

// CommentOnAlert adds a comment to a Defender alert (POST
// /security/alerts_v2/{id}/comments). The SDK's builder serialises the body
// as an array of comments, while Graph documents one alertComment object;
// the builder's request is kept and its body replaced by that object.
func (w *Writer) CommentOnAlert(ctx context.Context, alertID, comment string) error {
	op := "comment on alert " + alertID
	if err := w.check(op, alertID); err != nil {
		return err
	}
	if comment == "" {
		return invalid(op, "the comment is empty")
	}
	info, err := w.sdk.Security().Alerts_v2().ByAlertId(alertID).Comments().ToPostRequestInformation(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("%s: build request: %w", op, err)
	}
	c := security.NewAlertComment()
	c.SetOdataType(ptr("microsoft.graph.security.alertComment"))
	c.SetComment(ptr(comment))
	if err := info.SetContentFromParsable(ctx, w.adapter, "application/json", c); err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	return Wrap(op, w.adapter.SendNoContent(ctx, info, abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}))
}

// check is ready plus required.
func (w *Writer) check(op string, ids ...string) error {
	if err := w.ready(op); err != nil {
		return err
	}
	return required(op, ids...)
}
