package controls

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"m365security/shared/incident"
	"m365security/shared/posture"
)

const scuba = "https://github.com/cisagov/ScubaGear/blob/main/PowerShell/ScubaGear/baselines/aad.md"

// Guest role ids of authorizationPolicy.guestUserRoleId.
const (
	GuestRoleSameAsMember = "a0b1b346-4d3e-4e8b-98f8-753987be4970"
	GuestRoleLimited      = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
	GuestRoleRestricted   = "2af84b1e-32c8-42b7-82bc-daa82404023b"
)

// neverExpires is Graph's passwordValidityPeriodInDays for "never".
const neverExpires = 2147483647

var (
	caSources = []string{posture.SrcConditionalAccess}
	// riskSources: risk-based policies need Entra ID P2 to do anything, so
	// the licences are read with the policies.
	riskSources = []string{posture.SrcConditionalAccess, posture.SrcSubscribedSkus}
	// privilegedSources: privileged users hold roles directly, through
	// role-assignable groups, or as eligible members of such groups (PIM
	// for Groups).
	privilegedSources = []string{posture.SrcRoleAssignments, posture.SrcUsers, posture.SrcGroupEligibility}
)

// Catalogue lists every control in report order. Rules read only Input.
var Catalogue = slices.Concat(baseControls, emailControls)

var baseControls = []Control{
	{
		ID: "MS.AAD.1.1v1", Title: "Legacy authentication is blocked", Severity: Critical, Area: posture.AreaIdentity,
		Requires:    caSources,
		Rationale:   "Legacy protocols cannot do MFA, so a stolen password is enough to sign in through them.",
		Remediation: "Create an enabled Conditional Access policy for all users and all cloud apps with client apps 'Exchange ActiveSync clients' and 'Other clients', granting 'Block access'. Exclude only break-glass accounts, and record them as exceptions.",
		Reference:   scuba,
		Rule: policyRule{what: "blocks legacy authentication", match: func(p posture.CAPolicy, _ *posture.Identity) posture.Tri {
			return posture.TriOf(blocks(p) && has(p.ClientAppTypes, "exchangeActiveSync") && has(p.ClientAppTypes, "other"))
		}}.eval,
	},
	{
		ID: "MS.AAD.2.1v1", Title: "Users detected as high risk are blocked", Severity: High, Area: posture.AreaIdentity,
		Requires:    riskSources,
		Rationale:   "Identity Protection marks users high risk when their credentials are likely compromised.",
		Remediation: "Create an enabled Conditional Access policy for all users and all cloud apps with user risk 'High', granting 'Block access'. Requires Entra ID P2.",
		Reference:   scuba,
		Rule: func(in Input) Outcome {
			o := requireP2(in, policyRule{what: "blocks high-risk users", match: func(p posture.CAPolicy, _ *posture.Identity) posture.Tri {
				return posture.TriOf(blocks(p) && has(p.UserRiskLevels, "high"))
			}}.eval(in))
			// Who is at risk now shows what the missing block leaves open.
			if risky := in.Snapshot(posture.AreaIdentity).Identity.RiskyUsers; risky != nil {
				high := 0
				for _, u := range risky {
					if u.RiskLevel == "high" {
						high++
					}
				}
				o.Evidence["usersAtRisk"], o.Evidence["usersAtHighRisk"] = len(risky), high
			}
			return o
		},
	},
	{
		ID: "MS.AAD.2.3v1", Title: "Sign-ins detected as high risk are blocked", Severity: High, Area: posture.AreaIdentity,
		Requires:    riskSources,
		Rationale:   "A high sign-in risk means the sign-in itself is likely not the user.",
		Remediation: "Create an enabled Conditional Access policy for all users and all cloud apps with sign-in risk 'High', granting 'Block access'. Requires Entra ID P2.",
		Reference:   scuba,
		Rule: func(in Input) Outcome {
			return requireP2(in, policyRule{what: "blocks high-risk sign-ins", match: func(p posture.CAPolicy, _ *posture.Identity) posture.Tri {
				return posture.TriOf(blocks(p) && has(p.SignInRiskLevels, "high"))
			}}.eval(in))
		},
	},
	{
		ID: "MS.AAD.3.1v1", Title: "Phishing-resistant MFA is enforced for all users", Severity: High, Area: posture.AreaIdentity,
		Requires:    caSources,
		Rationale:   "Only FIDO2, Windows Hello for Business and certificate-based MFA resist adversary-in-the-middle phishing.",
		Remediation: "Require the 'Phishing-resistant MFA' authentication strength for all users and all cloud apps in an enabled Conditional Access policy.",
		Reference:   scuba,
		Rule:        policyRule{what: "requires phishing-resistant MFA", match: phishingResistant}.eval,
	},
	{
		ID: "MS.AAD.3.2v2", Title: "MFA is enforced for all users (where phishing-resistant MFA is not)", Severity: Critical, Area: posture.AreaIdentity,
		Requires:    caSources,
		Rationale:   "Without MFA a single leaked password gives an attacker the account.",
		Remediation: "Require multifactor authentication (or an authentication strength whose every combination is multifactor) for all users and all cloud apps in an enabled Conditional Access policy. Security defaults do not satisfy this control: turn them off when you create the policy (Entra ID P1 is needed).",
		Reference:   scuba,
		Rule:        mfaAllUsers,
	},
	{
		ID: "MS.AAD.3.6v1", Title: "Phishing-resistant MFA is required for privileged roles", Severity: Critical, Area: posture.AreaIdentity,
		Requires:    caSources,
		Rationale:   "Administrators are the most phished accounts and the most damaging to lose.",
		Remediation: "Create an enabled Conditional Access policy including every highly privileged role (Global, Privileged Role, User, SharePoint, Exchange, Hybrid Identity, Application and Cloud Application Administrator) for all cloud apps, requiring the 'Phishing-resistant MFA' authentication strength.",
		Reference:   scuba,
		Rule:        policyRule{what: "requires phishing-resistant MFA", coverRoles: posture.PrivilegedRoles, match: phishingResistant}.eval,
	},
	{
		ID: "MS.AAD.3.7v1", Title: "Managed devices are required for authentication", Severity: Medium, Area: posture.AreaIdentity,
		Requires:    caSources,
		Rationale:   "Requiring a compliant or hybrid-joined device stops stolen credentials being used from an attacker's machine.",
		Remediation: "Create an enabled Conditional Access policy for all users and all cloud apps granting access only with 'Require device to be marked as compliant' or 'Require Microsoft Entra hybrid joined device'.",
		Reference:   scuba,
		Rule: policyRule{what: "requires a managed device", match: func(p posture.CAPolicy, _ *posture.Identity) posture.Tri {
			managed := has(p.BuiltInControls, "compliantDevice") || has(p.BuiltInControls, "domainJoinedDevice")
			// With OR, another control (e.g. mfa) would let unmanaged devices in.
			onlyDevice := true
			if !strings.EqualFold(p.GrantOperator, "AND") {
				for _, c := range p.BuiltInControls {
					if c != "compliantDevice" && c != "domainJoinedDevice" {
						onlyDevice = false
					}
				}
			}
			return posture.TriOf(managed && onlyDevice && noRisk(p))
		}}.eval,
	},
	{
		ID: "MS.AAD.5.1v1", Title: "Only administrators can register applications", Severity: Medium, Area: posture.AreaIdentity,
		Requires:    []string{posture.SrcAuthorizationPolicy},
		Rationale:   "User-registered applications are a common persistence and consent-phishing vector.",
		Remediation: "In Entra ID > User settings, set 'Users can register applications' to No.",
		Reference:   scuba,
		Rule: func(in Input) Outcome {
			a := in.Snapshot(posture.AreaIdentity).Identity.Authorization
			return boolRule(!a.AllowedToCreateApps, map[string]any{"allowedToCreateApps": a.AllowedToCreateApps},
				"default user role can register applications")
		},
	},
	{
		ID: "MS.AAD.5.2v1", Title: "Users cannot consent to applications", Severity: High, Area: posture.AreaIdentity,
		Requires:    []string{posture.SrcAuthorizationPolicy},
		Rationale:   "Consent phishing turns one click into persistent mailbox and file access.",
		Remediation: "In Entra ID > Enterprise applications > Consent and permissions, set user consent to 'Do not allow user consent' (or allow consent only to permissions classified low impact, and classify none of the risky ones low) and enable the admin consent workflow.",
		Reference:   scuba,
		Rule:        userConsent,
	},
	{
		ID: "MS.AAD.6.1v1", Title: "User passwords do not expire", Severity: Low, Area: posture.AreaIdentity,
		Requires:    []string{posture.SrcDomains},
		Rationale:   "Forced rotation drives predictable passwords; NIST and Microsoft advise against expiry.",
		Remediation: "Set the password expiration policy of every verified managed domain to 'never expire' (Microsoft 365 admin center > Settings > Org settings > Security & privacy > Password expiration policy).",
		Reference:   scuba,
		Rule:        passwordsNeverExpire,
	},
	{
		ID: "MS.AAD.7.1v1", Title: "Between two and eight users are Global Administrators", Severity: High, Area: posture.AreaIdentity,
		Requires:    privilegedSources,
		Rationale:   "One admin is a single point of failure; many admins are many targets.",
		Remediation: "Keep at least two (including a break-glass account) and at most eight Global Administrators; move others to least-privileged roles.",
		Reference:   scuba,
		Rule:        globalAdminCount,
	},
	{
		ID: "MS.AAD.7.3v1", Title: "Privileged users are cloud-only accounts", Severity: High, Area: posture.AreaIdentity,
		Requires:    privilegedSources,
		Rationale:   "A synced admin account lets an on-premises compromise take over the cloud tenant.",
		Remediation: "Give privileged roles only to cloud-only accounts (not synchronised from Active Directory).",
		Reference:   scuba,
		Rule:        privilegedCloudOnly,
	},
	{
		ID: "MS.AAD.8.1v1", Title: "Guest users have limited access to directory objects", Severity: Medium, Area: posture.AreaIdentity,
		Requires:    []string{posture.SrcAuthorizationPolicy},
		Rationale:   "Guests with member-level access can enumerate the whole directory.",
		Remediation: "In External collaboration settings set guest user access to 'limited access' or 'restricted access'.",
		Reference:   scuba,
		Rule: func(in Input) Outcome {
			role := strings.ToLower(in.Snapshot(posture.AreaIdentity).Identity.Authorization.GuestUserRoleID)
			ok := role == GuestRoleLimited || role == GuestRoleRestricted
			return boolRule(ok, map[string]any{"guestUserRoleId": role}, "guests have the same access as members")
		},
	},
	{
		ID: "MS.AAD.8.2v1", Title: "Only users with the Guest Inviter role can invite guests", Severity: Medium, Area: posture.AreaIdentity,
		Requires:    []string{posture.SrcAuthorizationPolicy},
		Rationale:   "Letting every member invite guests brings external accounts in without review.",
		Remediation: "In External collaboration settings set guest invite restrictions to 'Only users assigned to specific admin roles can invite guest users'.",
		Reference:   scuba,
		Rule: func(in Input) Outcome {
			v := in.Snapshot(posture.AreaIdentity).Identity.Authorization.AllowInvitesFrom
			ok := v == "adminsAndGuestInviters" || v == "none"
			return boolRule(ok, map[string]any{"allowInvitesFrom": v}, "guest invitations allowed from "+v)
		},
	},
	{
		ID: "M365SEC.MFA.1", Title: "MFA coverage meets the target", Severity: High, Area: posture.AreaIdentity,
		Requires:    []string{posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcConditionalAccess},
		Rationale:   "Coverage counts users both registered for and required to use MFA: either alone leaves accounts open.",
		Remediation: "Register the listed users for MFA and bring them into scope of an MFA policy; review every exclusion.",
		Rule:        metricTarget(posture.MetricMFACoverage, posture.ListUnprotectedUsers, func(t Targets) float64 { return t.MFACoverage }),
	},
	{
		ID: "M365SEC.MFA.2", Title: "Every administrator is protected by MFA", Severity: Critical, Area: posture.AreaIdentity,
		Requires:    []string{posture.SrcUsers, posture.SrcRegistrationDetails, posture.SrcConditionalAccess},
		Rationale:   "An administrator without MFA is the shortest path to tenant takeover.",
		Remediation: "Register the listed administrators for (phishing-resistant) MFA and require it for their roles.",
		Rule:        metricTarget(posture.MetricAdminMFACoverage, posture.ListUnprotectedAdmins, func(t Targets) float64 { return t.AdminMFACoverage }),
	},
	{
		ID: "M365SEC.DEV.1", Title: "Device compliance meets the target", Severity: Medium, Area: posture.AreaDevices,
		Requires:    []string{posture.SrcManagedDevices},
		Rationale:   "Non-compliant devices miss the encryption, patching or protection the organisation requires.",
		Remediation: "Remediate or retire the listed non-compliant devices; check compliance policy assignments.",
		Rule:        metricTarget(posture.MetricDeviceCompliance, posture.ListNoncompliantDevice, func(t Targets) float64 { return t.DeviceCompliance }),
	},
	{
		ID: "M365SEC.DEV.2", Title: "Endpoint protection is active and reporting", Severity: High, Area: posture.AreaDevices,
		Requires:    []string{posture.SrcManagedDevices, posture.SrcProtectionStates},
		Rationale:   "A device whose anti-malware is off or silent is a blind spot for detection and response.",
		Remediation: "Turn on Microsoft Defender real-time protection and signature updates on the listed devices and make sure they report to Intune. Devices Graph cannot measure (macOS, iOS, Android) are listed under evidence.unmeasuredDevices; check them in the Defender portal.",
		Rule:        endpointProtection,
	},
	{
		ID: "M365SEC.SCORE.1", Title: "Secure Score has not dropped", Severity: Medium, Area: posture.AreaSecureScore,
		Requires:    []string{posture.SrcSecureScores},
		Rationale:   "A drop in Secure Score means a protection was turned off or a new gap appeared.",
		Remediation: "Compare the Secure Score history in the Defender portal to find the control that lost points and restore it.",
		Rule:        secureScoreDrop,
	},
	{
		ID: "M365SEC.BACKUP.1", Title: "A backup restore has been tested recently", Severity: Medium, Area: posture.AreaBackup,
		Rationale:   "A backup that has never been restored is a hope, not a control.",
		Remediation: "Restore a sample mailbox, site or OneDrive to an alternate location and record the test with POST /api/restore-tests.",
		Rule:        restoreTestFresh,
	},
	{
		ID: "M365SEC.BACKUP.2", Title: "Microsoft 365 Backup protects the tenant", Severity: Medium, Area: posture.AreaBackup,
		Requires:    []string{posture.SrcBackupService, posture.SrcBackupPolicies},
		Rationale:   "Ransomware and malicious deletion need a copy outside the user's reach.",
		Remediation: "Enable Microsoft 365 Backup (or confirm a third-party backup) and activate protection policies for Exchange, SharePoint and OneDrive.",
		Rule:        backupProtected,
	},
	{
		ID: "M365SEC.ALERT.1", Title: "High-severity alerts are reviewed promptly", Severity: High, Area: "",
		Rationale:   "An unreviewed high-severity alert is an attack nobody is responding to.",
		Remediation: "Triage the listed incidents: assign an owner, classify them and act or resolve.",
		Rule:        alertsReviewed,
	},
}

func boolRule(ok bool, ev map[string]any, failDetail string) Outcome {
	o := Outcome{Status: Pass, Evidence: ev}
	if !ok {
		o.Status = Fail
		o.Findings.Add(posture.Finding{Kind: posture.FindingTenant, Detail: failDetail})
	}
	return o
}

// mfaAllUsers is MS.AAD.3.2: satisfied by a phishing-resistant policy (3.1)
// or any MFA policy for all users. Security defaults do not satisfy it: they
// ask for MFA when Microsoft judges it necessary, not on every sign-in, and
// the baseline implements 3.2 with a Conditional Access policy.
func mfaAllUsers(in Input) Outcome {
	id := in.Snapshot(posture.AreaIdentity).Identity
	o := policyRule{what: "requires MFA", match: func(p posture.CAPolicy, id *posture.Identity) posture.Tri {
		return id.RequiresMFA(p).And(posture.TriOf(noRisk(p) && p.AllClientApps()))
	}}.eval(in)
	o.Evidence["securityDefaultsEnabled"] = id.SecurityDefaultsEnabled
	if id.SecurityDefaultsEnabled != nil && *id.SecurityDefaultsEnabled && o.Status != Pass {
		o.Status, o.Reason, o.Findings = Fail, "", posture.FindingList{}
		o.Findings.Add(posture.Finding{Kind: posture.FindingTenant,
			Detail: "security defaults are on: they require MFA only when Microsoft judges a sign-in risky or privileged, not on every sign-in; " +
				"turn them off and require MFA for all users and all cloud apps in an enabled Conditional Access policy"})
	}
	return o
}

// phishingResistant is the match of 3.1 and 3.6.
func phishingResistant(p posture.CAPolicy, id *posture.Identity) posture.Tri {
	return id.StrengthIsPhishingResistant(p).And(posture.TriOf(noRisk(p)))
}

// requireP2 fails a risk-based control without Entra ID P2: without it
// Identity Protection computes no risk, so a risk policy never fires.
func requireP2(in Input, o Outcome) Outcome {
	p2 := posture.HasServicePlan(in.Snapshot(posture.AreaIdentity).Identity.SubscribedSkus, posture.PlanEntraIDP2)
	o.Evidence["entraIdP2"] = p2
	if !p2 {
		o.Status, o.Findings = Fail, posture.FindingList{}
		o.Findings.Add(posture.Finding{Kind: posture.FindingTenant,
			Detail: "requires Entra ID P2: no active subscription provisions " + posture.PlanEntraIDP2 + ", so Identity Protection computes no risk and the policy never applies"})
	}
	return o
}

func passwordsNeverExpire(in Input) Outcome {
	o := Outcome{Status: Pass, Evidence: map[string]any{}}
	checked := 0
	for _, d := range in.Snapshot(posture.AreaIdentity).Identity.Domains {
		// Federated domains take password policy from the identity provider.
		if !d.IsVerified || !strings.EqualFold(d.AuthenticationType, "Managed") {
			continue
		}
		checked++
		if d.PasswordValidityPeriodInDays != nil && *d.PasswordValidityPeriodInDays != neverExpires {
			o.Findings.Add(posture.Finding{Kind: posture.FindingDomain, ID: d.ID, Name: d.ID,
				Detail: fmt.Sprintf("passwords expire after %d days", *d.PasswordValidityPeriodInDays)})
		}
	}
	o.Evidence["managedDomainsChecked"] = checked
	if o.Findings.Total > 0 {
		o.Status = Fail
	}
	return o
}

// holding is how a user holds a role: Kind is active or eligible, Via says
// through what ("" directly).
type holding struct {
	Kind string
	Via  string
}

// roleHolders returns the users holding role (template id), active or
// eligible, directly, through a role group whose members were stored, or as
// eligible members of such a group (PIM for Groups). An active holding wins
// over an eligible one.
func roleHolders(id *posture.Identity, role string) map[string]holding {
	template := map[string]string{}
	for _, rd := range id.RoleDefinitions {
		template[strings.ToLower(rd.ID)] = strings.ToLower(rd.TemplateID)
	}
	users := map[string]posture.User{}
	for _, u := range id.Users {
		users[strings.ToLower(u.ID)] = u
	}
	groups := map[string]posture.Group{}
	for _, g := range id.Groups {
		groups[strings.ToLower(g.ID)] = g
	}
	out := map[string]holding{}
	hold := func(uid string, h holding) {
		uid = strings.ToLower(uid)
		if cur, ok := out[uid]; !ok || (cur.Kind != posture.AssignmentActive && h.Kind == posture.AssignmentActive) {
			out[uid] = h
		}
	}
	for _, a := range id.RoleAssignments {
		r := strings.ToLower(a.RoleDefinitionID)
		if t, ok := template[r]; ok && t != "" {
			r = t
		}
		if r != role {
			continue
		}
		p := strings.ToLower(a.PrincipalID)
		if g, ok := groups[p]; ok {
			for _, m := range g.MemberIDs {
				hold(m, holding{Kind: a.Kind, Via: fmt.Sprintf("member of group %q", g.DisplayName)})
			}
			for _, m := range g.EligibleMemberIDs {
				hold(m, holding{Kind: posture.AssignmentEligible, Via: fmt.Sprintf("eligible member (PIM for Groups) of group %q", g.DisplayName)})
			}
			continue
		}
		if _, ok := users[p]; ok {
			hold(p, holding{Kind: a.Kind})
		}
	}
	return out
}

func globalAdminCount(in Input) Outcome {
	id := in.Snapshot(posture.AreaIdentity).Identity
	holders := roleHolders(id, posture.RoleGlobalAdmin)
	var names []string
	users := userIndex(id)
	for uid := range holders {
		names = append(names, label(users[uid], uid))
	}
	sort.Strings(names)
	ev := map[string]any{"globalAdministrators": len(holders), "users": names,
		"eligibleCounted": in.Snapshot(posture.AreaIdentity).Sources.Missing(posture.SrcRoleEligibility) == nil}
	o := Outcome{Status: Pass, Evidence: ev}
	switch n := len(holders); {
	case n < 2:
		o.Status = Fail
		o.Findings.Add(posture.Finding{Kind: posture.FindingRole, ID: posture.RoleGlobalAdmin, Name: "Global Administrator",
			Detail: fmt.Sprintf("%d Global Administrator(s); at least 2 are needed so one lost account cannot lock the tenant", n)})
	case n > 8:
		o.Status = Fail
		o.Findings.Add(posture.Finding{Kind: posture.FindingRole, ID: posture.RoleGlobalAdmin, Name: "Global Administrator",
			Detail: fmt.Sprintf("%d Global Administrators; at most 8", n)})
	}
	return o
}

// privilegedCloudOnly is MS.AAD.7.3: a privileged user whose identity comes
// from an on-premises directory or another identity provider is not
// cloud-only. onPremisesSyncEnabled marks synchronised users; a set
// onPremisesImmutableId marks federated ones too, including those a
// third-party federation provisions (sync flag null) or whose sync stopped
// (false). The finding names the attribute that decided it.
func privilegedCloudOnly(in Input) Outcome {
	id := in.Snapshot(posture.AreaIdentity).Identity
	users := userIndex(id)
	o := Outcome{Status: Pass, Evidence: map[string]any{}}
	checked := map[string]bool{}
	for _, role := range posture.PrivilegedRoles {
		for uid, h := range roleHolders(id, role) {
			u, ok := users[uid]
			if !ok || checked[uid+role] {
				continue
			}
			checked[uid+role] = true
			var why string
			switch {
			case u.OnPremisesSynced:
				why = "synchronised from on-premises (onPremisesSyncEnabled is true)"
			case u.OnPremisesImmutableID != "":
				why = "federated with an on-premises or external identity provider (onPremisesImmutableId is set; onPremisesSyncEnabled is not true)"
			default:
				continue
			}
			how := h.Kind
			if h.Via != "" {
				how += ", " + h.Via
			}
			o.Findings.Add(posture.Finding{Kind: posture.FindingUser, ID: u.ID, UserID: u.ID, Name: label(u, uid),
				Detail: fmt.Sprintf("%s (%s) is %s", posture.RoleName(role), how, why)})
		}
	}
	o.Evidence["privilegedAssignmentsChecked"] = len(checked)
	if o.Findings.Total > 0 {
		o.Status = Fail
	}
	return o
}

func userIndex(id *posture.Identity) map[string]posture.User {
	m := make(map[string]posture.User, len(id.Users))
	for _, u := range id.Users {
		m[strings.ToLower(u.ID)] = u
	}
	return m
}

func label(u posture.User, fallback string) string {
	switch {
	case u.UserPrincipalName != "":
		return u.UserPrincipalName
	case u.DisplayName != "":
		return u.DisplayName
	}
	return fallback
}

// metricTarget fails when a stored metric is below the tenant's target; the
// stored finding list names what is behind the gap.
func metricTarget(metric, list string, target func(Targets) float64) func(Input) Outcome {
	return func(in Input) Outcome {
		snap := in.snapshotFor(metric)
		m, ok := snap.Metrics[metric]
		if !ok || !m.IsMeasured() {
			reason := "not measured"
			if ok {
				reason = m.Reason
			}
			return Outcome{Status: Unknown, Reason: reason, Evidence: map[string]any{}}
		}
		t := target(in.Targets)
		o := Outcome{Evidence: map[string]any{"value": *m.Value, "target": t, "numerator": m.Numerator, "denominator": m.Denominator}}
		o.Findings = snap.Findings[list]
		if *m.Value+1e-9 >= t {
			o.Status = Pass
			// Passing with some gaps: findings stay visible as evidence.
			o.Evidence["belowTargetItems"] = o.Findings.Total
			o.Findings = posture.FindingList{}
			return o
		}
		o.Status = Fail
		return o
	}
}

// endpointProtection judges the measured ratio of endpointProtectionCoverage
// against the target; it is unknown when no device is measurable. Devices
// Graph cannot measure are evidence, never findings: no change on them could
// make the control pass.
func endpointProtection(in Input) Outcome {
	o := metricTarget(posture.MetricEndpointProtection, posture.ListUnprotectedDevices,
		func(t Targets) float64 { return t.EndpointProtection })(in)
	if snap := in.Snapshot(posture.AreaDevices); snap != nil {
		if m := snap.Metrics[posture.MetricEndpointProtection]; m.Unmeasured != nil {
			o.Evidence["unmeasured"] = m.Unmeasured
		}
		if l, ok := snap.Findings[posture.ListUnmeasuredDevices]; ok && l.Total > 0 {
			o.Evidence["unmeasuredDevices"] = l
		}
	}
	return o
}

// snapshotFor returns the snapshot of the area that produces metric.
func (in Input) snapshotFor(metric string) *posture.Snapshot {
	for area, ms := range posture.AreaMetrics {
		for _, m := range ms {
			if m == metric {
				return in.Snapshot(area)
			}
		}
	}
	return nil
}

func secureScoreDrop(in Input) Outcome {
	ss := in.Snapshot(posture.AreaSecureScore).SecureScore
	if ss == nil || len(ss.Scores) == 0 {
		return Outcome{Status: Unknown, Reason: "no Secure Score history collected", Evidence: map[string]any{}}
	}
	latest := ss.Scores[0]
	for _, s := range ss.Scores {
		if s.CreatedAt.After(latest.CreatedAt) {
			latest = s
		}
	}
	peak := latest
	for _, s := range ss.Scores {
		if !s.CreatedAt.Before(latest.CreatedAt.Add(-30*24*time.Hour)) && s.CurrentScore > peak.CurrentScore {
			peak = s
		}
	}
	drop := peak.CurrentScore - latest.CurrentScore
	o := Outcome{Status: Pass, Evidence: map[string]any{"latest": latest.CurrentScore, "latestAt": latest.CreatedAt,
		"peak30d": peak.CurrentScore, "peakAt": peak.CreatedAt, "drop": drop, "maxDrop": in.Targets.SecureScoreMaxDrop}}
	if drop > in.Targets.SecureScoreMaxDrop {
		o.Status = Fail
		o.Findings.Add(posture.Finding{Kind: posture.FindingTenant,
			Detail: fmt.Sprintf("Secure Score fell %.1f points from %.1f on %s to %.1f", drop, peak.CurrentScore, peak.CreatedAt.Format("2006-01-02"), latest.CurrentScore)})
	}
	return o
}

func restoreTestFresh(in Input) Outcome {
	var last *posture.RestoreTest
	for i, t := range in.RestoreTests {
		if t.Succeeded && !t.PerformedAt.After(in.AsOf) && (last == nil || t.PerformedAt.After(last.PerformedAt)) {
			last = &in.RestoreTests[i]
		}
	}
	maxAge := time.Duration(in.Targets.RestoreTestMaxAgeDays) * 24 * time.Hour
	o := Outcome{Status: Pass, Evidence: map[string]any{"maxAgeDays": in.Targets.RestoreTestMaxAgeDays, "recordedTests": len(in.RestoreTests)}}
	switch {
	case last == nil:
		o.Status = Fail
		o.Findings.Add(posture.Finding{Kind: posture.FindingTenant, Detail: "no successful restore test has been recorded"})
	case in.AsOf.Sub(last.PerformedAt) > maxAge:
		o.Status = Fail
		o.Evidence["lastSuccessfulTest"] = last.PerformedAt
		o.Findings.Add(posture.Finding{Kind: posture.FindingTenant,
			Detail: fmt.Sprintf("last successful restore test was %d days ago (%s)", int(in.AsOf.Sub(last.PerformedAt).Hours()/24), last.Workload)})
	default:
		o.Evidence["lastSuccessfulTest"] = last.PerformedAt
	}
	return o
}

func backupProtected(in Input) Outcome {
	b := in.Snapshot(posture.AreaBackup).Backup
	o := Outcome{Status: Pass, Evidence: map[string]any{"serviceStatus": b.ServiceStatus}}
	active := map[string]bool{}
	for _, p := range b.Policies {
		if p.Status == "active" || p.Status == "activeWithErrors" {
			active[p.Workload] = true
		}
	}
	o.Evidence["activeWorkloads"] = active
	if b.ServiceStatus != "enabled" {
		o.Findings.Add(posture.Finding{Kind: posture.FindingTenant, Detail: "Microsoft 365 Backup service is " + b.ServiceStatus})
	}
	for _, w := range []string{"exchange", "sharePoint", "oneDriveForBusiness"} {
		if !active[w] {
			o.Findings.Add(posture.Finding{Kind: posture.FindingTenant, Detail: "no active protection policy for " + w})
		}
	}
	if o.Findings.Total > 0 {
		o.Status = Fail
	}
	return o
}

func alertsReviewed(in Input) Outcome {
	if !in.AlertsCollected {
		return Outcome{Status: Unknown, Reason: "security alerts have not been collected for this tenant", Evidence: map[string]any{}}
	}
	limit := time.Duration(in.Targets.AlertReviewHours) * time.Hour
	o := Outcome{Status: Pass, Evidence: map[string]any{"reviewHours": in.Targets.AlertReviewHours}}
	for _, inc := range in.Incidents {
		if inc.Status == incident.StatusNew && (inc.Severity == "high" || inc.Severity == "critical") && in.AsOf.Sub(inc.CreatedAt) > limit {
			o.Findings.Add(posture.Finding{Kind: "incident", ID: inc.ID,
				Detail: fmt.Sprintf("%s incident unreviewed for %d hours", inc.Severity, int(in.AsOf.Sub(inc.CreatedAt).Hours()))})
		}
	}
	if o.Findings.Total > 0 {
		o.Status = Fail
	}
	return o
}
