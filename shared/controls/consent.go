package controls

import (
	"fmt"
	"sort"
	"strings"

	"m365security/shared/posture"
)

// lowImpactConsent is the permission grant policy behind "Allow user consent
// for apps from verified publishers, for selected permissions" (baseline
// option 2): users may consent only to permissions classified low.
const lowImpactConsent = "ManagePermissionGrantsForSelf.microsoft-user-default-low"

// riskyDelegated lists, per resource application, the delegated permissions
// that must never be classified low impact: they read or send mail, read
// files, chats and calendars, or change the directory. It follows the
// delegated entries of ScubaGear's RiskyPermissions.json (CISA's reference
// reading of MS.AAD.5.2v1).
var riskyDelegated = map[string][]string{
	posture.AppMicrosoftGraph: {
		"AccessReview.ReadWrite.All", "AccessReview.ReadWrite.Membership", "AdministrativeUnit.ReadWrite.All", "Agreement.ReadWrite.All",
		"APIConnectors.ReadWrite.All", "AppCatalog.ReadWrite.All", "AppCertTrustConfiguration.ReadWrite.All",
		"Application-RemoteDesktopConfig.ReadWrite.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
		"ApprovalSolution.ReadWrite", "ApprovalSolutionResponse.ReadWrite", "AuthenticationContext.ReadWrite.All",
		"BackupRestore-Configuration.ReadWrite.All", "BackupRestore-Control.ReadWrite.All", "BackupRestore-Restore.ReadWrite.All",
		"Bookings.Manage.All", "Bookings.ReadWrite.All", "BookingsAppointment.ReadWrite.All",
		"Calendars.Read", "Calendars.ReadWrite", "Contacts.Read", "Contacts.ReadWrite",
		"Mail.Read", "Mail.ReadBasic", "Mail.ReadWrite", "Mail.Send", "Mail.Send.Shared", "MailboxSettings.Read", "MailboxSettings.ReadWrite",
		"MailboxFolder.Read", "MailboxFolder.ReadWrite", "SMTP.Send", "EAS.AccessAsUser.All",
		"User.Read.All", "User.ReadWrite.All", "User.Export.All", "Sites.Read.All", "Sites.ReadWrite.All",
		"Analytics.Read", "AttackSimulation.ReadWrite.All", "Channel.ReadBasic.All", "ChannelMessage.Edit", "ChannelMessage.Send",
		"Chat.Create", "Chat.Read", "Chat.ReadBasic", "Chat.ReadWrite", "ChatMessage.Read", "ChatMessage.Send",
		"Device.Command", "Device.Read", "Family.Read", "Files.Read", "Files.Read.All", "Files.ReadWrite", "Files.ReadWrite.All",
		"Financials.ReadWrite.All",
	},
	posture.AppExchangeOnline: {
		"Calendars.Read", "Contacts.Read", "Contacts.ReadWrite", "Mail.Read", "Mail.ReadWrite", "Mail.Send",
		"MailboxSettings.Read", "MailboxSettings.ReadWrite", "User.Read.All", "User.ReadBasic.All",
	},
	posture.AppSharePointOnline: {
		"Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All", "User.ReadWrite.All", "User.Read.All",
	},
}

// isRiskyDelegated reports whether the resource's permission is in riskyDelegated.
func isRiskyDelegated(resourceAppID, permission string) bool {
	return has(riskyDelegated[strings.ToLower(resourceAppID)], permission)
}

// userConsent is MS.AAD.5.2v1. No self-consent policy passes. Low-impact
// consent (baseline option 2) passes only when no risky permission is
// classified low, which needs the classifications: unread, the verdict is
// unknown. Any other self-consent policy (consent to any app, Microsoft's
// managed "recommended" setting, a custom policy) fails, as in the
// baseline's reference reading.
func userConsent(in Input) Outcome {
	id := in.Snapshot(posture.AreaIdentity).Identity
	assigned := id.Authorization.PermissionGrantPoliciesAssigned
	o := Outcome{Status: Pass, Evidence: map[string]any{"permissionGrantPoliciesAssigned": assigned}}
	lowImpact := false
	for _, p := range assigned {
		switch {
		case strings.EqualFold(p, lowImpactConsent):
			lowImpact = true
		case strings.HasPrefix(strings.ToLower(p), "managepermissiongrantsforself."):
			o.Findings.Add(posture.Finding{Kind: posture.FindingTenant, Detail: "users may consent to applications under " + p})
		}
	}
	if lowImpact {
		if missing := in.Snapshot(posture.AreaIdentity).Sources.Missing(posture.SrcPermissionClasses); len(missing) > 0 {
			// A failing consent policy fails the control whatever the
			// classifications say.
			if o.Findings.Total == 0 {
				o.Status = Unknown
				o.Reason = "users may consent to permissions classified low impact, and which permissions are classified could not be read: " + strings.Join(missing, "; ")
				return o
			}
		} else {
			var low []string
			for _, c := range id.PermissionClassifications {
				if !strings.EqualFold(c.Classification, "low") {
					continue
				}
				low = append(low, c.ResourceName+": "+c.PermissionName)
				if isRiskyDelegated(c.ResourceAppID, c.PermissionName) {
					o.Findings.Add(posture.Finding{Kind: posture.FindingTenant,
						Detail: fmt.Sprintf("users may consent to %s of %s: it is classified low impact but can expose data or change the directory", c.PermissionName, c.ResourceName)})
				}
			}
			sort.Strings(low)
			o.Evidence["lowImpactPermissions"] = low
		}
	}
	if o.Findings.Total > 0 {
		o.Status = Fail
	}
	return o
}
