package incident

import "strings"

// CategoryInput is what the category of a signal is decided from.
type CategoryInput struct {
	Source          string
	ServiceSource   string
	DetectionSource string
	ProductName     string
	// AlertCategory is the alert's MITRE kill-chain category.
	AlertCategory string
	Title         string
}

// Match selects signals: every non-empty field must match (case-insensitive
// equality; TitleKeywords: the title contains any of them). An empty Match
// matches everything.
type Match struct {
	Source          string   `json:"source,omitempty"`
	ServiceSource   string   `json:"serviceSource,omitempty"`
	DetectionSource string   `json:"detectionSource,omitempty"`
	ProductName     string   `json:"productName,omitempty"`
	AlertCategory   string   `json:"alertCategory,omitempty"`
	TitleKeywords   []string `json:"titleKeywords,omitempty"`
}

// CategoryRule gives signals that match it a category.
type CategoryRule struct {
	Name     string `json:"name"`
	Match    Match  `json:"match"`
	Category string `json:"category"`
}

// Categories is the ordered category table: the first matching rule wins
// and the last rule matches everything. Title rules for account compromise
// come first because the same detections (impossible travel, inbox rules)
// arrive from several products, Defender for Office 365 among them.
var Categories = []CategoryRule{
	{Name: "risky user", Match: Match{Source: SourceRiskyUser}, Category: CategoryAccountCompromise},
	{Name: "security-relevant directory change", Match: Match{Source: SourceDirectoryChange}, Category: CategoryAccountCompromise},
	{Name: "identity protection alert", Match: Match{ServiceSource: "azureAdIdentityProtection"}, Category: CategoryAccountCompromise},
	{Name: "identity protection detection", Match: Match{DetectionSource: "azureAdIdentityProtection"}, Category: CategoryAccountCompromise},
	{Name: "account compromise detection by title", Match: Match{TitleKeywords: []string{
		"impossible travel", "atypical travel", "inbox rule", "inbox manipulation", "forwarding rule",
		"mfa fatigue", "mfa request", "multifactor authentication fatigue", "password spray", "brute force",
		"unfamiliar sign-in", "anonymous ip", "leaked credential", "compromised user", "compromised account",
		"token theft", "anomalous token", "adversary-in-the-middle", "aitm",
	}}, Category: CategoryAccountCompromise},
	{Name: "identity credential access", Match: Match{ServiceSource: "microsoftDefenderForIdentity", AlertCategory: "CredentialAccess"}, Category: CategoryAccountCompromise},
	{Name: "defender for office 365 alert", Match: Match{ServiceSource: "microsoftDefenderForOffice365"}, Category: CategoryPhishing},
	{Name: "defender for office 365 detection", Match: Match{DetectionSource: "microsoftDefenderForOffice365"}, Category: CategoryPhishing},
	{Name: "phishing by title", Match: Match{TitleKeywords: []string{
		"phish", "user-reported", "reported by user", "clicked", "malicious url", "malicious email", "email messages containing",
	}}, Category: CategoryPhishing},
	{Name: "defender for endpoint alert", Match: Match{ServiceSource: "microsoftDefenderForEndpoint"}, Category: CategoryDevice},
	{Name: "defender for endpoint detection", Match: Match{DetectionSource: "microsoftDefenderForEndpoint"}, Category: CategoryDevice},
	{Name: "antivirus detection", Match: Match{DetectionSource: "antivirus"}, Category: CategoryDevice},
	{Name: "intune alert", Match: Match{ProductName: "Microsoft Intune"}, Category: CategoryDevice},
	{Name: "intune by title", Match: Match{TitleKeywords: []string{"intune", "noncompliant device", "jailbroken"}}, Category: CategoryDevice},
	{Name: "everything else", Category: CategoryOther},
}

// Classify returns the category of the first rule in Categories that matches.
func Classify(in CategoryInput) string {
	return classify(Categories, in)
}

func classify(rules []CategoryRule, in CategoryInput) string {
	for _, r := range rules {
		if r.Match.Matches(in) {
			return r.Category
		}
	}
	return CategoryOther
}

// Matches reports whether in satisfies every field set in m.
func (m Match) Matches(in CategoryInput) bool {
	return same(m.Source, in.Source) && same(m.ServiceSource, in.ServiceSource) &&
		same(m.DetectionSource, in.DetectionSource) && same(m.ProductName, in.ProductName) &&
		same(m.AlertCategory, in.AlertCategory) && containsAny(in.Title, m.TitleKeywords)
}

// IsEmpty reports whether m sets no field and so matches everything.
func (m Match) IsEmpty() bool {
	return m.Source == "" && m.ServiceSource == "" && m.DetectionSource == "" &&
		m.ProductName == "" && m.AlertCategory == "" && len(m.TitleKeywords) == 0
}

func same(want, got string) bool { return want == "" || strings.EqualFold(want, got) }

func containsAny(title string, keywords []string) bool {
	if len(keywords) == 0 {
		return true
	}
	title = strings.ToLower(title)
	for _, k := range keywords {
		if strings.Contains(title, strings.ToLower(k)) {
			return true
		}
	}
	return false
}

// IsCategory reports whether c is one of the incident categories.
func IsCategory(c string) bool { return categoryRank[c] > 0 }

// categoryRank orders categories for an incident whose signals disagree: the
// more consequential category wins (a phished user whose account is then
// compromised is an account compromise); other never overrides.
var categoryRank = map[string]int{
	CategoryOther:             1,
	CategoryDevice:            2,
	CategoryPhishing:          3,
	CategoryAccountCompromise: 4,
}
