package controls

import "strings"

// ReportArea is one of the control areas reports and the console group
// controls by, and the responsibility model assigns people to. It is a
// mapping over control ids, apart from the collection areas: a control's
// collection area says which snapshot it reads, its report area what part
// of the service it belongs to (alert review reads no snapshot at all).
type ReportArea struct {
	ID    string
	Title string
	// Prefixes are the control id prefixes the area holds.
	Prefixes []string
}

// ReportAreas lists the control areas in report order.
var ReportAreas = []ReportArea{
	{ID: "identity", Title: "Identity and access", Prefixes: []string{"MS.AAD.", "M365SEC.MFA."}},
	{ID: "email", Title: "Email and collaboration", Prefixes: []string{"MS.EXO.", "M365SEC.MAIL."}},
	{ID: "devices", Title: "Devices", Prefixes: []string{"M365SEC.DEV."}},
	{ID: "data", Title: "Data and backup", Prefixes: []string{"M365SEC.BACKUP.", "M365SEC.SCORE."}},
	{ID: "response", Title: "Alert monitoring and response", Prefixes: []string{"M365SEC.ALERT."}},
}

// ReportAreaOf returns the control area a control id belongs to; ok is
// false for an id no area claims (a test keeps the catalogue covered).
func ReportAreaOf(controlID string) (ReportArea, bool) {
	for _, a := range ReportAreas {
		for _, p := range a.Prefixes {
			if strings.HasPrefix(controlID, p) {
				return a, true
			}
		}
	}
	return ReportArea{}, false
}
