package report

import (
	"m365security/shared/controls"
	"m365security/shared/settings"
)

// Roles in the accountability table.
const (
	RoleCustomer = "customer"
	RoleProvider = "provider"
	RoleBoth     = "customer and provider"
)

// duty is one cell of the default responsibility model: who holds it, and a
// note where the split needs one.
type duty struct {
	role, note string
}

// dutyRow is an area's four duties: configure, monitor, respond, report.
type dutyRow [4]duty

// responsibility is the default accountability per model and control area.
// Co-managed: the customer's people own configuration and decide on
// disruptive actions; the provider monitors, proposes and reports.
// Fully-managed: the provider does all four within the tenant's limits; a
// device wipe still waits for the customer (settings.DefaultMode).
var responsibility = map[string]map[string]dutyRow{
	settings.CoManaged: {
		"identity": {{RoleCustomer, ""}, {RoleProvider, ""}, {RoleBoth, "provider revokes sessions; customer approves disabling accounts"}, {RoleProvider, ""}},
		"email":    {{RoleCustomer, ""}, {RoleProvider, ""}, {RoleBoth, "provider disables inbox rules; customer approves deleting mail"}, {RoleProvider, ""}},
		"devices":  {{RoleCustomer, ""}, {RoleProvider, ""}, {RoleBoth, "provider scans and locks; customer approves retire and wipe"}, {RoleProvider, ""}},
		"data":     {{RoleCustomer, ""}, {RoleProvider, ""}, {RoleCustomer, "restores are the customer's"}, {RoleProvider, ""}},
		"response": {{RoleProvider, ""}, {RoleProvider, ""}, {RoleBoth, "approvals wait for the customer"}, {RoleProvider, ""}},
	},
	settings.FullyManaged: {
		"identity": {{RoleProvider, ""}, {RoleProvider, ""}, {RoleProvider, "within the automatic-actions brake"}, {RoleProvider, ""}},
		"email":    {{RoleProvider, ""}, {RoleProvider, ""}, {RoleProvider, "within the automatic-actions brake"}, {RoleProvider, ""}},
		"devices":  {{RoleProvider, ""}, {RoleProvider, ""}, {RoleBoth, "customer approves wipes"}, {RoleProvider, ""}},
		"data":     {{RoleProvider, ""}, {RoleProvider, ""}, {RoleProvider, ""}, {RoleProvider, ""}},
		"response": {{RoleProvider, ""}, {RoleProvider, ""}, {RoleProvider, ""}, {RoleProvider, ""}},
	},
}

// Accountability is the table of who configures, monitors, responds and
// reports per control area, from the tenant's responsibility model and
// named contacts.
func Accountability(t settings.Tenant) []AccountabilityRow {
	model := responsibility[t.ResponsibilityModel]
	if model == nil {
		model = responsibility[settings.CoManaged]
	}
	out := make([]AccountabilityRow, 0, len(controls.ReportAreas))
	for _, a := range controls.ReportAreas {
		d := model[a.ID]
		out = append(out, AccountabilityRow{Area: a.ID, Title: a.Title,
			Configures: party(d[0], t.Contacts), Monitors: party(d[1], t.Contacts),
			Responds: party(d[2], t.Contacts), Reports: party(d[3], t.Contacts)})
	}
	return out
}

// noContact marks a role whose contact settings do not name.
const noContact = "no contact named in settings"

func party(d duty, c settings.Contacts) Party {
	name := func(ct settings.Contact) string {
		switch {
		case ct.Name != "" && ct.Email != "":
			return ct.Name + " <" + ct.Email + ">"
		case ct.Name != "":
			return ct.Name
		case ct.Email != "":
			return ct.Email
		}
		return noContact
	}
	p := Party{Role: d.role, Note: d.note}
	switch d.role {
	case RoleCustomer:
		p.Contact = name(c.Customer)
	case RoleProvider:
		p.Contact = name(c.Provider)
	default:
		p.Contact = name(c.Customer) + "; " + name(c.Provider)
	}
	return p
}

// ownerOf is who owns fixing a control area's failing control: whoever
// configures it.
func ownerOf(rows []AccountabilityRow, area string) Party {
	for _, r := range rows {
		if r.Area == area {
			return r.Configures
		}
	}
	return Party{Role: RoleCustomer, Contact: noContact}
}
