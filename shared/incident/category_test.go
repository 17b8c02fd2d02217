package incident

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		in   CategoryInput
		want string
	}{
		{"a risky user is an account compromise", CategoryInput{Source: SourceRiskyUser}, CategoryAccountCompromise},
		{"a directory change is an account compromise", CategoryInput{Source: SourceDirectoryChange, Title: "New Global Administrator"}, CategoryAccountCompromise},
		{"an identity protection alert is an account compromise", CategoryInput{Source: SourceAlert, ServiceSource: "azureAdIdentityProtection", Title: "Unfamiliar location"}, CategoryAccountCompromise},
		{"impossible travel from cloud apps is an account compromise", CategoryInput{Source: SourceAlert, ServiceSource: "microsoftDefenderForCloudApps", Title: "Impossible travel activity"}, CategoryAccountCompromise},
		{"a suspicious inbox rule from office 365 is an account compromise, not phishing", CategoryInput{Source: SourceAlert, ServiceSource: "microsoftDefenderForOffice365", Title: "Suspicious inbox manipulation rule"}, CategoryAccountCompromise},
		{"MFA fatigue is an account compromise", CategoryInput{Source: SourceAlert, ServiceSource: "microsoft365Defender", Title: "Possible MFA fatigue attack"}, CategoryAccountCompromise},
		{"password spray is an account compromise", CategoryInput{Source: SourceAlert, ServiceSource: "microsoft365Defender", Title: "Password Spray"}, CategoryAccountCompromise},
		{"identity credential access is an account compromise", CategoryInput{Source: SourceAlert, ServiceSource: "MicrosoftDefenderForIdentity", AlertCategory: "credentialaccess", Title: "Suspected DCSync"}, CategoryAccountCompromise},
		{"an office 365 alert is phishing", CategoryInput{Source: SourceAlert, ServiceSource: "microsoftDefenderForOffice365", Title: "Email messages removed after delivery"}, CategoryPhishing},
		{"an XDR alert detected by office 365 is phishing", CategoryInput{Source: SourceAlert, ServiceSource: "microsoft365Defender", DetectionSource: "microsoftDefenderForOffice365", Title: "Something"}, CategoryPhishing},
		{"a user-reported message is phishing", CategoryInput{Source: SourceAlert, ServiceSource: "microsoft365Defender", Title: "Email reported by user as malware or phish"}, CategoryPhishing},
		{"a clicked url is phishing", CategoryInput{Source: SourceAlert, ServiceSource: "microsoft365Defender", Title: "A potentially malicious URL click was detected"}, CategoryPhishing},
		{"an endpoint alert is a device incident", CategoryInput{Source: SourceAlert, ServiceSource: "microsoftDefenderForEndpoint", AlertCategory: "Malware", Title: "Mimikatz detected"}, CategoryDevice},
		{"an antivirus detection is a device incident", CategoryInput{Source: SourceAlert, ServiceSource: "microsoft365Defender", DetectionSource: "antivirus", Title: "Trojan"}, CategoryDevice},
		{"an intune alert is a device incident", CategoryInput{Source: SourceAlert, ProductName: "microsoft intune", Title: "Device"}, CategoryDevice},
		{"a data loss prevention alert is other", CategoryInput{Source: SourceAlert, ServiceSource: "dataLossPrevention", Title: "DLP policy match"}, CategoryOther},
		{"an empty input is other", CategoryInput{}, CategoryOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Classify(tc.in))
		})
	}
}

// example builds an input that a rule's match selects.
func example(m Match) CategoryInput {
	in := CategoryInput{Source: m.Source, ServiceSource: m.ServiceSource, DetectionSource: m.DetectionSource,
		ProductName: m.ProductName, AlertCategory: m.AlertCategory}
	if len(m.TitleKeywords) > 0 {
		in.Title = "x " + m.TitleKeywords[len(m.TitleKeywords)-1] + " y"
	}
	return in
}

func TestCategoriesAreWellFormed(t *testing.T) {
	names := map[string]bool{}
	reached := map[string]bool{}
	for i, r := range Categories {
		require.NotEmpty(t, r.Name, "rule %d", i)
		require.False(t, names[r.Name], "rule name %q repeats", r.Name)
		names[r.Name] = true
		require.True(t, IsCategory(r.Category), "rule %q: category %q", r.Name, r.Category)
		last := i == len(Categories)-1
		require.Equal(t, last, r.Match.IsEmpty(), "rule %q: only the last rule matches everything", r.Name)
		for _, k := range r.Match.TitleKeywords {
			require.NotEmpty(t, k, "rule %q", r.Name)
		}
		// No rule is shadowed by an earlier rule of another category.
		require.Equal(t, r.Category, Classify(example(r.Match)), "rule %q", r.Name)
		reached[r.Category] = true
	}
	for _, c := range []string{CategoryAccountCompromise, CategoryPhishing, CategoryDevice, CategoryOther} {
		require.True(t, reached[c], "category %s is reachable", c)
	}
	require.False(t, IsCategory("malware"))
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name string
		m    Match
		in   CategoryInput
		want bool
	}{
		{"every field must match", Match{ServiceSource: "a", DetectionSource: "b"}, CategoryInput{ServiceSource: "a", DetectionSource: "c"}, false},
		{"fields compare without case", Match{Source: "Alert", ProductName: "P", AlertCategory: "C"}, CategoryInput{Source: "alert", ProductName: "p", AlertCategory: "c"}, true},
		{"a source mismatch fails", Match{Source: "alert"}, CategoryInput{Source: "riskyUser"}, false},
		{"a product mismatch fails", Match{ProductName: "p"}, CategoryInput{ProductName: "q"}, false},
		{"a kill-chain category mismatch fails", Match{AlertCategory: "c"}, CategoryInput{AlertCategory: "d"}, false},
		{"any title keyword matches", Match{TitleKeywords: []string{"foo", "Bar"}}, CategoryInput{Title: "a BAR b"}, true},
		{"no title keyword fails", Match{TitleKeywords: []string{"foo"}}, CategoryInput{Title: "bar"}, false},
		{"an empty match matches everything", Match{}, CategoryInput{Source: "x", Title: "y"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.m.Matches(tc.in))
		})
	}
	require.Equal(t, CategoryOther, classify(nil, CategoryInput{}), "no rules give other")
	for _, m := range []Match{{Source: "x"}, {ServiceSource: "x"}, {DetectionSource: "x"}, {ProductName: "x"}, {AlertCategory: "x"}, {TitleKeywords: []string{"x"}}} {
		require.False(t, m.IsEmpty(), "%+v", m)
	}
}
