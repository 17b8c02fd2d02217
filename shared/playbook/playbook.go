// Package playbook holds the response decisions as data and pure
// functions: the playbook table (what to do for each incident category),
// the traits of each action type, how a tenant's settings, protected
// accounts and the safety brake decide whether an action runs on its own or
// waits for a person, and which events people are told about. It makes no
// Graph call and touches no store; shared/respond runs it.
package playbook

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"

	"m365security/shared/incident"
)

// Target kinds: what a playbook step acts on, resolved from the incident.
const (
	// TargetUser is each user of the incident (its entities).
	TargetUser = "user"
	// TargetClickedUser is each user who clicked a phishing link.
	TargetClickedUser = "clickedUser"
	// TargetDevice is each Intune managed device of the incident.
	TargetDevice = "device"
	// TargetInboxRule is each inbox rule named in the evidence.
	TargetInboxRule = "inboxRule"
	// TargetMessage is each delivered message named in the evidence.
	TargetMessage = "message"
	// TargetAlert is each Defender alert of the incident.
	TargetAlert = "alert"
)

// Step is one action of a playbook and what it acts on. WhenSource, when
// set, limits the step to incidents holding a signal of that source (a
// risky user can be confirmed compromised; a user named only by an alert
// has no Identity Protection risk to confirm).
type Step struct {
	Action     string `json:"action"`
	Target     string `json:"target"`
	WhenSource string `json:"whenSource,omitempty"`
}

// Playbook is the ordered steps for one incident category; an empty
// Category applies to every incident.
type Playbook struct {
	Name     string `json:"name"`
	Category string `json:"category"`
	Steps    []Step `json:"steps"`
}

// Playbooks is the table the engine walks, in order: every matching
// playbook's steps are planned. Order within a playbook is the order of
// execution and of the incident's action list: containment first.
var Playbooks = []Playbook{
	{Name: "account compromise", Category: incident.CategoryAccountCompromise, Steps: []Step{
		{Action: incident.ActionRevokeSessions, Target: TargetUser},
		{Action: incident.ActionConfirmCompromised, Target: TargetUser, WhenSource: incident.SourceRiskyUser},
		{Action: incident.ActionDisableAccount, Target: TargetUser},
		{Action: incident.ActionRequirePasswordChange, Target: TargetUser},
		{Action: incident.ActionDisableInboxRule, Target: TargetInboxRule},
	}},
	{Name: "phishing", Category: incident.CategoryPhishing, Steps: []Step{
		{Action: incident.ActionRemediateMessage, Target: TargetMessage},
		{Action: incident.ActionRevokeSessions, Target: TargetClickedUser},
	}},
	{Name: "device", Category: incident.CategoryDevice, Steps: []Step{
		{Action: incident.ActionDefenderScan, Target: TargetDevice},
		{Action: incident.ActionRemoteLock, Target: TargetDevice},
		{Action: incident.ActionRetireDevice, Target: TargetDevice},
	}},
	{Name: "every incident", Steps: []Step{
		{Action: incident.ActionUpdateAlert, Target: TargetAlert},
	}},
}

// Proposal is one action a playbook asks for, before any decision.
type Proposal struct {
	Playbook   string
	Type       string
	Target     string
	TargetUser string
}

// Key is the proposal's idempotency key within its incident.
func (p Proposal) Key(incidentID string) string {
	k := incidentID + "|" + p.Type + "|" + strings.ToLower(p.Target)
	if p.TargetUser != "" {
		k += "|" + strings.ToLower(p.TargetUser)
	}
	return k
}

// ActionID derives the action's id from its key, so the same proposal
// always gets the same id (a redelivered incident update cannot mint a
// second one).
func ActionID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

// Propose walks the table for an incident and returns every action its
// playbooks ask for, deduplicated by key. It is pure: deciding and storing
// are the engine's.
func Propose(table []Playbook, in incident.Incident) []Proposal {
	var out []Proposal
	seen := map[string]bool{}
	for _, pb := range table {
		if pb.Category != "" && pb.Category != in.Category {
			continue
		}
		for _, st := range pb.Steps {
			if st.WhenSource != "" && !hasSource(in, st.WhenSource) {
				continue
			}
			for _, p := range resolve(st, in) {
				p.Playbook, p.Type = pb.Name, st.Action
				if k := p.Key(in.ID); !seen[k] {
					seen[k] = true
					out = append(out, p)
				}
			}
		}
	}
	return out
}

func hasSource(in incident.Incident, source string) bool {
	return slices.ContainsFunc(in.Signals, func(s incident.SignalState) bool { return s.Source == source })
}

// resolve turns a step's target kind into the incident's concrete targets.
func resolve(st Step, in incident.Incident) []Proposal {
	var out []Proposal
	add := func(target, user string) { out = append(out, Proposal{Target: target, TargetUser: user}) }
	rt := in.ResponseTargets
	switch st.Target {
	case TargetUser:
		for _, u := range Users(in.Entities.Users) {
			add(u, "")
		}
	case TargetClickedUser:
		for _, u := range Users(rt.ClickedUsers) {
			add(u, "")
		}
	case TargetDevice:
		for _, d := range rt.ManagedDevices {
			add(d, "")
		}
	case TargetInboxRule:
		for _, r := range rt.InboxRules {
			add(r.RuleID, r.UserID)
		}
	case TargetMessage:
		for _, m := range rt.Messages {
			add(m.NetworkMessageID, m.Recipient)
		}
	case TargetAlert:
		for _, id := range in.AlertIDs {
			add(id, "")
		}
	}
	return out
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsObjectID reports whether s is an Entra object id (a GUID).
func IsObjectID(s string) bool { return guidRE.MatchString(s) }

// Users picks one identifier per user from an entity list that holds both
// object ids and UPNs of the same people (correlation keeps both, unpaired):
// the object ids when there are any, else the UPNs. Acting on both forms
// would act on each person twice.
func Users(entities []string) []string {
	var ids, names []string
	for _, u := range entities {
		if IsObjectID(u) {
			ids = append(ids, strings.ToLower(u))
		} else if strings.Contains(u, "@") {
			names = append(names, strings.ToLower(u))
		}
	}
	if len(ids) > 0 {
		return ids
	}
	return names
}
