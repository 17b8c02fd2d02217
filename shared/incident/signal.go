package incident

import (
	"sort"
	"strings"
	"time"
)

// Signal sources.
const (
	SourceAlert           = "alert"
	SourceRiskyUser       = "riskyUser"
	SourceDirectoryChange = "directoryChange"
)

// Signal is one security signal in the shape correlation reads, whatever
// produced it: a Defender alert, a risky user or a directory change.
type Signal struct {
	Source string `json:"source"`
	// ID is the alert id, or a stable id for non-alert signals; the same
	// signal seen again carries the same ID.
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	Category string `json:"category"`
	// Severity, Status, Classification and Determination are as Defender
	// (or Identity Protection) states them.
	Severity       string   `json:"severity"`
	Status         string   `json:"status,omitempty"`
	Classification string   `json:"classification,omitempty"`
	Determination  string   `json:"determination,omitempty"`
	Title          string   `json:"title"`
	Entities       Entities `json:"entities"`
	// FirstActivityAt is when the activity began; CreatedAt when it was
	// detected; LastUpdateAt when its source last changed it.
	FirstActivityAt time.Time `json:"firstActivityAt"`
	CreatedAt       time.Time `json:"createdAt"`
	LastUpdateAt    time.Time `json:"lastUpdateAt"`
	// Targets are the response targets the signal names (inbox rules,
	// messages, clicking users); merged into the incident's.
	Targets ResponseTargets `json:"targets,omitzero"`
}

// AlertRecord is the part of microsoft.graph.security.alert (alerts_v2) that
// signals read; the collector decodes Graph's JSON straight into it.
type AlertRecord struct {
	ID                    string     `json:"id"`
	TenantID              string     `json:"tenantId"`
	IncidentID            string     `json:"incidentId"`
	Title                 string     `json:"title"`
	Severity              string     `json:"severity"`
	Status                string     `json:"status"`
	Classification        string     `json:"classification"`
	Determination         string     `json:"determination"`
	ServiceSource         string     `json:"serviceSource"`
	DetectionSource       string     `json:"detectionSource"`
	ProductName           string     `json:"productName"`
	Category              string     `json:"category"`
	CreatedDateTime       time.Time  `json:"createdDateTime"`
	LastUpdateDateTime    time.Time  `json:"lastUpdateDateTime"`
	FirstActivityDateTime time.Time  `json:"firstActivityDateTime"`
	ResolvedDateTime      time.Time  `json:"resolvedDateTime"`
	Evidence              []Evidence `json:"evidence"`
}

// Evidence is one microsoft.graph.security.alertEvidence; ODataType selects
// which of the other fields the derived type carries.
type Evidence struct {
	ODataType string `json:"@odata.type"`
	// userEvidence, mailboxEvidence
	UserAccount *UserAccount `json:"userAccount,omitempty"`
	// deviceEvidence
	MdeDeviceID     string `json:"mdeDeviceId,omitempty"`
	AzureAdDeviceID string `json:"azureAdDeviceId,omitempty"`
	DeviceDNSName   string `json:"deviceDnsName,omitempty"`
	// mailboxEvidence
	PrimaryAddress string `json:"primaryAddress,omitempty"`
	// urlEvidence
	URL string `json:"url,omitempty"`
	// analyzedMessageEvidence
	NetworkMessageID      string   `json:"networkMessageId,omitempty"`
	RecipientEmailAddress string   `json:"recipientEmailAddress,omitempty"`
	URLs                  []string `json:"urls,omitempty"`
	// mailboxConfigurationEvidence (inbox rules, forwarding)
	ConfigurationID           string `json:"configurationId,omitempty"`
	ConfigurationType         string `json:"configurationType,omitempty"`
	MailboxPrimaryAddress     string `json:"mailboxPrimaryAddress,omitempty"`
	UPN                       string `json:"upn,omitempty"`
	ExternalDirectoryObjectID string `json:"externalDirectoryObjectId,omitempty"`
}

// UserAccount is microsoft.graph.security.userAccount.
type UserAccount struct {
	AzureAdUserID     string `json:"azureAdUserId"`
	UserPrincipalName string `json:"userPrincipalName"`
	AccountName       string `json:"accountName,omitempty"`
}

// Evidence @odata.type discriminators read by FromAlert.
const (
	ODataUserEvidence                 = "#microsoft.graph.security.userEvidence"
	ODataDeviceEvidence               = "#microsoft.graph.security.deviceEvidence"
	ODataMailboxEvidence              = "#microsoft.graph.security.mailboxEvidence"
	ODataURLEvidence                  = "#microsoft.graph.security.urlEvidence"
	ODataAnalyzedMessageEvidence      = "#microsoft.graph.security.analyzedMessageEvidence"
	ODataMailboxConfigurationEvidence = "#microsoft.graph.security.mailboxConfigurationEvidence"
)

// evidenceReaders maps an evidence type to what it contributes; a type not
// listed contributes nothing (an ip or file says nothing about whom).
var evidenceReaders = map[string]func(Evidence, *Entities){
	ODataUserEvidence: func(e Evidence, to *Entities) { addAccount(e.UserAccount, to) },
	ODataDeviceEvidence: func(e Evidence, to *Entities) {
		to.Devices = append(to.Devices, e.MdeDeviceID, e.AzureAdDeviceID, e.DeviceDNSName)
	},
	ODataMailboxEvidence: func(e Evidence, to *Entities) {
		to.Mailboxes = append(to.Mailboxes, e.PrimaryAddress)
		addAccount(e.UserAccount, to)
	},
	ODataURLEvidence: func(e Evidence, to *Entities) { to.URLs = append(to.URLs, e.URL) },
	ODataAnalyzedMessageEvidence: func(e Evidence, to *Entities) {
		to.Mailboxes = append(to.Mailboxes, e.RecipientEmailAddress)
		to.URLs = append(to.URLs, e.URLs...)
	},
	ODataMailboxConfigurationEvidence: func(e Evidence, to *Entities) {
		to.Mailboxes = append(to.Mailboxes, e.MailboxPrimaryAddress)
		to.Users = append(to.Users, e.ExternalDirectoryObjectID, e.UPN)
	},
}

func addAccount(a *UserAccount, to *Entities) {
	if a != nil {
		to.Users = append(to.Users, a.AzureAdUserID, a.UserPrincipalName)
	}
}

// EntitiesFromEvidence extracts users (id and UPN), devices (MDE id, Entra
// id, DNS name), mailboxes and urls from alert evidence by its @odata.type.
// Identifiers other than urls are lower-cased, since ids, UPNs and addresses
// compare case-insensitively; the result is sorted and deduplicated.
func EntitiesFromEvidence(evidence []Evidence) Entities {
	var out Entities
	for _, e := range evidence {
		if read, ok := evidenceReaders[e.ODataType]; ok {
			read(e, &out)
		}
	}
	return normalized(out)
}

// normalized returns the entities lower-cased (except urls, whose paths are
// case-sensitive), sorted and without duplicates or empty values.
func normalized(e Entities) Entities {
	return Entities{
		Users:     uniq(e.Users, true),
		Devices:   uniq(e.Devices, true),
		Mailboxes: uniq(e.Mailboxes, true),
		URLs:      uniq(e.URLs, false),
	}
}

func uniq(values []string, fold bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		if fold {
			v = strings.ToLower(v)
		}
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// FromAlert normalizes an alerts_v2 alert, categorized by Categories.
func FromAlert(a AlertRecord) Signal {
	return Signal{
		Source:   SourceAlert,
		ID:       a.ID,
		TenantID: a.TenantID,
		Category: Classify(CategoryInput{Source: SourceAlert, ServiceSource: a.ServiceSource,
			DetectionSource: a.DetectionSource, ProductName: a.ProductName, AlertCategory: a.Category, Title: a.Title}),
		Severity:        a.Severity,
		Status:          a.Status,
		Classification:  a.Classification,
		Determination:   a.Determination,
		Title:           a.Title,
		Entities:        EntitiesFromEvidence(a.Evidence),
		Targets:         TargetsFromAlert(a),
		FirstActivityAt: a.FirstActivityDateTime,
		CreatedAt:       a.CreatedDateTime,
		LastUpdateAt:    a.LastUpdateDateTime,
	}
}

// RiskyUserRecord is the part of microsoft.graph.riskyUser that signals read.
type RiskyUserRecord struct {
	ID                      string    `json:"id"`
	UserPrincipalName       string    `json:"userPrincipalName"`
	UserDisplayName         string    `json:"userDisplayName"`
	RiskLevel               string    `json:"riskLevel"`
	RiskState               string    `json:"riskState"`
	RiskDetail              string    `json:"riskDetail"`
	RiskLastUpdatedDateTime time.Time `json:"riskLastUpdatedDateTime"`
}

// RiskDetectionRecord is the part of microsoft.graph.riskDetection that
// signals read: when the risky activity happened and when it was detected.
type RiskDetectionRecord struct {
	ID               string    `json:"id"`
	UserID           string    `json:"userId"`
	RiskEventType    string    `json:"riskEventType"`
	ActivityDateTime time.Time `json:"activityDateTime"`
	DetectedDateTime time.Time `json:"detectedDateTime"`
}

// FromRiskyUser normalizes a risky user and the risk detections of its
// current episode (detections of other users are ignored). The signal's id
// names the user and the episode's first detection, so the same episode seen
// on every poll is one signal and a new episode after a resolution is another.
func FromRiskyUser(tenantID string, u RiskyUserRecord, detections []RiskDetectionRecord) Signal {
	var first, detected time.Time
	for _, d := range detections {
		if d.UserID != u.ID {
			continue
		}
		first = earliest(first, d.ActivityDateTime)
		detected = earliest(detected, d.DetectedDateTime)
	}
	// Without detections (not visible, or not yet written) the risk's last
	// update is the best detection time there is.
	detected = earliest(detected, u.RiskLastUpdatedDateTime)
	first = earliest(first, detected)
	title := "Risky user: " + u.RiskLevel + " risk, " + u.RiskState
	if u.RiskDetail != "" && u.RiskDetail != "none" {
		title += " (" + u.RiskDetail + ")"
	}
	return Signal{
		Source:          SourceRiskyUser,
		ID:              SourceRiskyUser + ":" + strings.ToLower(u.ID) + ":" + detected.UTC().Format(time.RFC3339),
		TenantID:        tenantID,
		Category:        Classify(CategoryInput{Source: SourceRiskyUser, Title: title}),
		Severity:        u.RiskLevel,
		Status:          u.RiskState,
		Title:           title,
		Entities:        normalized(Entities{Users: []string{u.ID, u.UserPrincipalName}}),
		FirstActivityAt: first,
		CreatedAt:       detected,
		LastUpdateAt:    u.RiskLastUpdatedDateTime,
	}
}

// DirectoryChange is a directory change that matters to security (a member
// added to a privileged group, a new Global Administrator, a break-glass
// account changed, MFA methods removed), as the webhook or delta path saw it.
type DirectoryChange struct {
	// ID is stable for the change (e.g. resource, object and change time).
	ID                string    `json:"id"`
	TenantID          string    `json:"tenantId"`
	Title             string    `json:"title"`
	Severity          string    `json:"severity"`
	UserID            string    `json:"userId"`
	UserPrincipalName string    `json:"userPrincipalName"`
	At                time.Time `json:"at"`
}

// FromDirectoryChange normalizes a directory change.
func FromDirectoryChange(c DirectoryChange) Signal {
	return Signal{
		Source:          SourceDirectoryChange,
		ID:              SourceDirectoryChange + ":" + c.ID,
		TenantID:        c.TenantID,
		Category:        Classify(CategoryInput{Source: SourceDirectoryChange, Title: c.Title}),
		Severity:        c.Severity,
		Title:           c.Title,
		Entities:        normalized(Entities{Users: []string{c.UserID, c.UserPrincipalName}}),
		FirstActivityAt: c.At,
		CreatedAt:       c.At,
		LastUpdateAt:    c.At,
	}
}

// earliest returns the earlier of two times, a zero time counting as absent.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
