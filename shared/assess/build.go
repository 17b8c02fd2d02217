package assess

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"m365security/shared/metrics"
	"m365security/shared/posture"
)

// built is a snapshot ready to store, with the per-user states that go into
// chunk documents beside it.
type built struct {
	snap  posture.Snapshot
	users []posture.UserMFA
}

// builder evaluates one area's collection into s (metrics, findings,
// reduced sections) and returns the per-user states stored beside it.
type builder func(s *posture.Snapshot, c Collected) []posture.UserMFA

// builders holds each area's evaluation; a test keeps it in step with
// posture.Areas.
var builders = map[posture.Area]builder{
	posture.AreaIdentity:    buildIdentity,
	posture.AreaDevices:     buildDevices,
	posture.AreaSecureScore: buildSecureScore,
	posture.AreaBackup:      func(s *posture.Snapshot, c Collected) []posture.UserMFA { s.Backup = c.Backup; return nil },
	posture.AreaEmail:       buildEmail,
}

// build evaluates a collection into a snapshot. It is pure.
func build(tenantID string, area posture.Area, c Collected, takenAt time.Time) (built, error) {
	bf, ok := builders[area]
	if !ok {
		return built{}, fmt.Errorf("no evaluation for collection area %q", area)
	}
	s := posture.Snapshot{TenantID: tenantID, Area: area, TakenAt: takenAt, Sources: c.Sources,
		Metrics: map[string]posture.Metric{}, Findings: map[string]posture.FindingList{}}
	users := bf(&s, c)
	return built{snap: s, users: users}, nil
}

func buildIdentity(s *posture.Snapshot, c Collected) []posture.UserMFA {
	id := c.Identity
	if id == nil {
		id = &posture.Identity{}
	}
	dir := posture.NewDirectory(id, c.Sources)
	mfa := metrics.EvaluateMFA(id, c.Sources, dir, s.TakenAt)
	s.Metrics = mfa.Metrics
	var unprotected, admins posture.FindingList
	for _, u := range mfa.Users {
		if u.Protected == posture.Yes {
			continue
		}
		f := posture.Finding{Kind: posture.FindingUser, ID: u.ID, UserID: u.ID, Name: u.UserPrincipalName, Detail: u.Reason, Groups: u.Groups}
		unprotected.Add(f)
		if u.IsAdmin {
			admins.Add(f)
		}
	}
	s.Findings[posture.ListUnprotectedUsers] = unprotected
	s.Findings[posture.ListUnprotectedAdmins] = admins
	s.Identity, s.Counts = reduceIdentity(id)
	return mfa.Users
}

func buildDevices(s *posture.Snapshot, c Collected) []posture.UserMFA {
	takenAt := s.TakenAt
	s.Metrics = metrics.Devices(c.Devices, c.Sources, takenAt)
	counts := &posture.Counts{DevicesByOS: map[string]int{}, DevicesByState: map[string]int{}}
	var noncompliant, unprotected, unmeasured posture.FindingList
	if c.Devices != nil {
		for _, d := range c.Devices.Devices {
			counts.Devices++
			counts.DevicesByOS[d.OperatingSystem]++
			counts.DevicesByState[d.ComplianceState]++
			if d.ComplianceState != "compliant" {
				noncompliant.Add(posture.Finding{Kind: posture.FindingDevice, ID: d.ID, Name: d.DeviceName, UserID: d.UserID,
					Detail: "compliance state " + d.ComplianceState + " (" + d.OperatingSystem + ", " + d.UserPrincipalName + ")"})
			}
			if ok, reason := d.ProtectionMeasurable(); !ok {
				// Not measurable is not unprotected: listed apart.
				unmeasured.Add(posture.Finding{Kind: posture.FindingDevice, ID: d.ID, Name: d.DeviceName, UserID: d.UserID,
					Detail: "not measurable: " + reason})
			} else if !metrics.EndpointProtected(d, takenAt) {
				unprotected.Add(posture.Finding{Kind: posture.FindingDevice, ID: d.ID, Name: d.DeviceName, UserID: d.UserID,
					Detail: protectionGap(d, takenAt)})
			}
		}
	}
	s.Counts = counts
	s.Findings[posture.ListNoncompliantDevice] = noncompliant
	s.Findings[posture.ListUnprotectedDevices] = unprotected
	s.Findings[posture.ListUnmeasuredDevices] = unmeasured
	return nil
}

func buildSecureScore(s *posture.Snapshot, c Collected) []posture.UserMFA {
	s.Metrics = metrics.SecureScore(c.SecureScore, c.Sources, s.TakenAt)
	s.SecureScore = reduceSecureScore(c.SecureScore)
	return nil
}

func buildEmail(s *posture.Snapshot, c Collected) []posture.UserMFA {
	s.Metrics = metrics.MailDomains(c.Email, c.Sources, s.TakenAt)
	s.Email = c.Email
	return nil
}

func protectionGap(d posture.Device, asOf time.Time) string {
	p := d.Protection
	switch {
	case p == nil:
		return "no Windows protection state reported"
	case !p.MalwareProtectionEnabled:
		return "anti-malware protection is off"
	case !p.RealTimeProtectionEnabled:
		return "real-time protection is off"
	case p.SignatureUpdateOverdue:
		return "security intelligence (signature) update overdue"
	case p.LastReported == nil || asOf.Sub(*p.LastReported) > metrics.ProtectionMaxAge:
		return "protection state not reported in the last 7 days"
	}
	return "not protected"
}

// reduceIdentity keeps what controls need and drops per-user bulk: users
// named by policies or holding roles, and groups without member lists except
// groups that hold roles.
func reduceIdentity(id *posture.Identity) (*posture.Identity, *posture.Counts) {
	counts := &posture.Counts{GroupMemberCount: map[string]int{}}
	keep := map[string]bool{}
	roleGroups := map[string]bool{}
	groupIDs := map[string]bool{}
	for _, g := range id.Groups {
		groupIDs[strings.ToLower(g.ID)] = true
	}
	for _, a := range id.RoleAssignments {
		p := strings.ToLower(a.PrincipalID)
		if groupIDs[p] {
			roleGroups[p] = true
		} else {
			keep[p] = true
		}
	}
	for _, p := range id.Policies {
		for _, u := range append(append([]string{}, p.IncludeUsers...), p.ExcludeUsers...) {
			keep[strings.ToLower(u)] = true
		}
	}
	r := *id
	r.Groups = nil
	for _, g := range id.Groups {
		counts.GroupMemberCount[g.ID] = len(g.MemberIDs)
		rg := posture.Group{ID: g.ID, DisplayName: g.DisplayName, Complete: g.Complete}
		if roleGroups[strings.ToLower(g.ID)] {
			rg.MemberIDs, rg.EligibleMemberIDs = g.MemberIDs, g.EligibleMemberIDs
			for _, m := range append(append([]string{}, g.MemberIDs...), g.EligibleMemberIDs...) {
				keep[strings.ToLower(m)] = true
			}
		}
		r.Groups = append(r.Groups, rg)
	}
	r.Users = nil
	for _, u := range id.Users {
		counts.Users++
		switch {
		case !u.AccountEnabled:
			counts.Disabled++
		case u.UserType == "Guest":
			counts.Guests++
		case u.IsMember():
			counts.EnabledMembers++
		}
		if keep[strings.ToLower(u.ID)] {
			r.Users = append(r.Users, u)
		}
	}
	return &r, counts
}

// reduceSecureScore keeps the daily series and the latest day's control
// scores; older days' per-control detail adds size without use.
func reduceSecureScore(ss *posture.SecureScore) *posture.SecureScore {
	if ss == nil {
		return nil
	}
	r := posture.SecureScore{Profiles: ss.Profiles}
	latest, ok := metrics.LatestScore(ss.Scores)
	for _, s := range ss.Scores {
		if !ok || !s.CreatedAt.Equal(latest.CreatedAt) {
			s.ControlScores = nil
		}
		r.Scores = append(r.Scores, s)
	}
	sort.Slice(r.Scores, func(i, j int) bool { return r.Scores[i].CreatedAt.After(r.Scores[j].CreatedAt) })
	return &r
}
