package graphsim

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// DefaultNow is the clock Generate uses when Size.Now is zero, so that output
// never depends on the wall clock.
var DefaultNow = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// Size sets how big a generated tenant is. Zero fields take DefaultSize's
// values; Users is at least 60 and CAGroups at least 6 so that every kind of
// finding fits.
type Size struct {
	Users    int
	Devices  int
	CAGroups int // security groups referenced by Conditional Access policies
	Alerts   int // 0: one per 500 users, at least 12
	// Now anchors every timestamp (sign-ins, scores, alerts).
	Now time.Time
}

// DefaultSize is the demo tenant: a few hundred users and devices.
func DefaultSize() Size {
	return Size{Users: 300, Devices: 320, CAGroups: 12, Now: DefaultNow}
}

// LargeSize is the benchmark scale: 100k users, 100k devices, 200 CA groups.
func LargeSize() Size {
	return Size{Users: 100_000, Devices: 100_000, CAGroups: 200, Now: DefaultNow}
}

func (s Size) normalized() Size {
	d := DefaultSize()
	if s.Users == 0 {
		s.Users = d.Users
	}
	if s.Devices == 0 {
		s.Devices = d.Devices
	}
	if s.CAGroups == 0 {
		s.CAGroups = d.CAGroups
	}
	s.Users = max(s.Users, 60)
	s.CAGroups = max(s.CAGroups, 6)
	if s.Alerts == 0 {
		s.Alerts = max(12, s.Users/500)
	}
	if s.Now.IsZero() {
		s.Now = DefaultNow
	}
	s.Now = s.Now.UTC().Truncate(time.Second)
	return s
}

// Special accounts generated at fixed user indexes.
const (
	uBreakGlass1 = iota
	uBreakGlass2
	uGlobalAdmin
	uSyncedGlobalAdmin
	uGlobalAdminNoMFA
	uPrivRoleAdmin
	uSecAdmin1
	uSecAdmin2
	uExchangeAdmin
	uExchangeAdminDisabled
	uSharePointAdmin
	uUserAdmin1
	uUserAdmin2
	uGuestUserAdmin
	uHelpdesk1
	uHelpdesk2
	uHelpdesk3
	uHelpdesk4
	uHelpdesk5
	uBillingAdmin
	uCAAdmin
	uAppAdmin1
	uAppAdmin2
	uCloudAppAdmin
	uHybridAdmin
	uPrivAuthAdmin
	uAuthAdmin1
	uAuthAdmin2
	uSecOps1
	uSecOps2
	uHostileScript
	uHostileQuoted
	uHostileSQL
	uUnicode
	uEligibleGA1
	uEligibleGA2
	uEligiblePRA
	uSpecialCount
)

// Well-known ids.
const (
	securityDefaultsID        = "00000000-0000-0000-0000-000000000005"
	phishingResistantStrength = "00000000-0000-0000-0000-000000000004"
	guestUserRoleID           = "10dae51f-b6af-4016-8d66-8c2a99b929b3"
	roleGlobalReader          = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	roleSecurityReader        = "5d6b6bb7-de71-4623-b4af-96380a352509"
	appExchangeOnline         = "00000002-0000-0ff1-ce00-000000000000"
	appAzureManagement        = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
)

var (
	firstNames = []string{"Adele", "Alex", "Allan", "Ben", "Bianca", "Carla", "Chen", "Christie", "Daniel", "Debra",
		"Diego", "Elena", "Emily", "Enrico", "Farah", "Grady", "Hana", "Henrietta", "Irvin", "Isaiah",
		"Jamal", "Johanna", "Joni", "Jun", "Kai", "Lee", "Lidia", "Lynne", "Maria", "Megan",
		"Miriam", "Nestor", "Nia", "Olga", "Omar", "Patti", "Pradeep", "Priya", "Raul", "Rosa",
		"Sakura", "Samir", "Sofia", "Tariq", "Tomasz", "Uma", "Victor", "Wei", "Yara", "Zoltan"}
	lastNames = []string{"Adams", "Bauer", "Castillo", "Deyoung", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
		"Kowalski", "Lopez", "Mensah", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi", "Sato", "Tanaka",
		"Usman", "Vargas", "Wilber", "Xu", "Yilmaz", "Zhang", "Brennan", "Cruz", "Dubois", "Gonzalez",
		"Hughes", "Iyer", "Kim", "Larsen", "Moreau", "Novak", "Olsen", "Pisani", "Romero", "Silva"}
	departments = []string{"Finance", "Sales", "Marketing", "Engineering", "IT", "HR", "Legal", "Operations", "Support", "Research"}
	jobTitles   = map[string][]string{
		"Finance": {"Accountant", "Financial Analyst", "Controller"}, "Sales": {"Account Executive", "Sales Manager", "Sales Associate"},
		"Marketing": {"Marketing Specialist", "Content Writer", "Brand Manager"}, "Engineering": {"Software Engineer", "Engineering Manager", "SRE"},
		"IT": {"Systems Administrator", "IT Support Specialist", "Network Engineer"}, "HR": {"HR Generalist", "Recruiter", "HR Manager"},
		"Legal": {"Counsel", "Paralegal", "Compliance Officer"}, "Operations": {"Operations Analyst", "Logistics Coordinator", "Facilities Manager"},
		"Support": {"Support Engineer", "Customer Success Manager", "Support Lead"}, "Research": {"Research Scientist", "Data Scientist", "Lab Technician"},
	}
	offices      = []string{"Seattle", "London", "Berlin", "Singapore", "São Paulo", "Toronto", "Sydney", "Remote"}
	tenantNames  = []string{"contoso", "fabrikam", "northwind", "tailspin", "wingtip", "adatum", "litware", "proseware"}
	partnerHosts = []string{"partner.example", "agency.example", "supplier.example", "auditor.example"}

	methodsStrong = [][]string{
		{"microsoftAuthenticatorPush", "softwareOneTimePasscode"},
		{"microsoftAuthenticatorPush", "mobilePhone"},
		{"microsoftAuthenticatorPush", "softwareOneTimePasscode", "mobilePhone", "email"},
		{"fido2", "microsoftAuthenticatorPush"},
		{"windowsHelloForBusiness", "microsoftAuthenticatorPush"},
		{"microsoftAuthenticatorPasswordless", "microsoftAuthenticatorPush"},
		{"mobilePhone"},
		{"mobilePhone", "email"},
	}
	methodsNone  = []string{}
	methodsEmail = []string{"email"}
	prefPush     = []string{"push"}
	prefSMS      = []string{"sms"}
	prefFido     = []string{"fido2"}
	prefNone     = []string{}
)

type gen struct {
	r      *rand.Rand
	now    time.Time
	tenant string // tenant id
	name   string // e.g. contoso
	domain string // default domain
	init   string // initial onmicrosoft.com domain
}

func (g *gen) uuid() string {
	var b [36]byte
	hi, lo := g.r.Uint64(), g.r.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	const dash = 1<<8 | 1<<13 | 1<<18 | 1<<23
	n := 0
	for i := 0; i < 36; i++ {
		if dash&(1<<i) != 0 {
			b[i] = '-'
			continue
		}
		var nib uint64
		if n < 16 {
			nib = hi >> (60 - 4*n) & 0xf
		} else {
			nib = lo >> (60 - 4*(n-16)) & 0xf
		}
		b[i] = hexDigits[nib]
		n++
	}
	return string(b[:])
}

func (g *gen) pct(p int) bool          { return g.r.IntN(100) < p }
func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) ago(minDays, maxDays int) time.Time {
	secs := minDays*86400 + g.r.IntN((maxDays-minDays)*86400+1)
	return g.now.Add(-time.Duration(secs) * time.Second)
}
func (g *gen) agoHours(minH, maxH int) time.Time {
	secs := minH*3600 + g.r.IntN((maxH-minH)*3600+1)
	return g.now.Add(-time.Duration(secs) * time.Second)
}

func (g *gen) alnum(n int) string {
	const chars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[g.r.IntN(len(chars))]
	}
	return string(b)
}

func (g *gen) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[g.r.IntN(16)]
	}
	return string(b)
}

// Generate builds a realistic tenant for a security review. The same seed and
// size always give the same tenant (and therefore byte-identical responses).
func Generate(seed int64, size Size) *Tenant {
	size = size.normalized()
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x5eed5eed5eed5eed)), now: size.Now}
	g.name = tenantNames[int(uint64(seed)%uint64(len(tenantNames)))]
	g.tenant = g.uuid()
	g.domain = g.name + ".com"
	g.init = g.name + ".onmicrosoft.com"

	t := &Tenant{ID: g.tenant}
	t.Organization = g.organization()
	t.Domains = g.domains()
	t.Users = g.users(size.Users)
	groups, caGroups := g.groups(t.Users, size.CAGroups)
	t.Groups = groups
	t.RoleDefinitions = g.roleDefinitions()
	t.RoleAssignments = g.roleAssignments(t)
	t.RoleEligibilitySchedules = g.roleEligibility(t)
	t.UserRegistrationDetails = g.registrationDetails(t)
	t.SecurityDefaults = IdentitySecurityDefaultsEnforcementPolicy{
		ID:          securityDefaultsID,
		DisplayName: "Security Defaults",
		Description: "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.",
		IsEnabled:   false,
	}
	t.NamedLocations = g.namedLocations()
	t.ConditionalAccessPolicies = g.caPolicies(t, caGroups)
	t.AuthorizationPolicy = g.authorizationPolicy()
	t.RiskyUsers = g.riskyUsers(t)
	t.RiskDetections = g.riskDetections(t)
	t.ManagedDevices = g.devices(t.Users, size.Devices)
	profiles := g.controlProfiles()
	t.SecureScoreControlProfiles = profiles
	t.SecureScores = g.secureScores(t, profiles)
	t.BackupRestore, t.ProtectionPolicies = g.backup()
	t.Alerts = g.alerts(t, size.Alerts)
	g.baseline(t)
	// Last, and without random draws, so the rest of the tenant is the
	// same as before mail was simulated.
	g.mail(t)
	return t
}

func (g *gen) organization() Organization {
	return Organization{
		ID:                    g.tenant,
		DisplayName:           strings.ToUpper(g.name[:1]) + g.name[1:] + " Ltd",
		CountryLetterCode:     "US",
		CreatedDateTime:       g.ago(2000, 2600),
		OnPremisesSyncEnabled: true,
		TenantType:            "AAD",
		VerifiedDomains: []VerifiedDomain{
			{Capabilities: "Email, OfficeCommunicationsOnline", IsDefault: false, IsInitial: true, Name: g.init, Type: "Managed"},
			{Capabilities: "Email, OfficeCommunicationsOnline", IsDefault: true, IsInitial: false, Name: g.domain, Type: "Managed"},
			{Capabilities: "Email", IsDefault: false, IsInitial: false, Name: g.name + "-legacy.com", Type: "Federated"},
		},
	}
}

func (g *gen) domains() []Domain {
	return []Domain{
		{ID: g.init, AuthenticationType: "Managed", IsAdminManaged: true, IsInitial: true, IsVerified: true, IsRoot: true,
			PasswordNotificationWindowInDays: 14, PasswordValidityPeriodInDays: 2147483647, SupportedServices: []string{"Email", "OfficeCommunicationsOnline"}},
		{ID: g.domain, AuthenticationType: "Managed", IsAdminManaged: true, IsDefault: true, IsVerified: true, IsRoot: true,
			PasswordNotificationWindowInDays: 14, PasswordValidityPeriodInDays: 2147483647, SupportedServices: []string{"Email", "OfficeCommunicationsOnline", "Intune"}},
		{ID: "mail." + g.domain, AuthenticationType: "Managed", IsAdminManaged: true, IsVerified: true,
			PasswordNotificationWindowInDays: 14, PasswordValidityPeriodInDays: 90, SupportedServices: []string{"Email"}},
		{ID: g.name + "-legacy.com", AuthenticationType: "Federated", IsAdminManaged: true, IsVerified: true, IsRoot: true,
			PasswordNotificationWindowInDays: 14, PasswordValidityPeriodInDays: 90, SupportedServices: []string{"Email"}},
		{ID: g.name + ".org", AuthenticationType: "Managed", IsAdminManaged: true, IsVerified: true, IsRoot: true,
			PasswordNotificationWindowInDays: 14, PasswordValidityPeriodInDays: 2147483647, SupportedServices: []string{"Email"}},
		{ID: g.name + ".dev", AuthenticationType: "Managed", IsAdminManaged: true, IsRoot: true, AvailabilityStatus: "",
			SupportedServices: []string{}},
	}
}

type special struct {
	display, upnLocal, dept, title     string
	cloudOnly, synced, disabled, guest bool
}

func (g *gen) specialUser(i int) special {
	s := special{}
	switch i {
	case uBreakGlass1, uBreakGlass2:
		n := strconv.Itoa(i - uBreakGlass1 + 1)
		return special{display: "Emergency Access 0" + n, upnLocal: "breakglass0" + n, dept: "IT", title: "Emergency access account", cloudOnly: true}
	case uGlobalAdmin:
		return special{display: "Alex Admin", upnLocal: "alex.admin", dept: "IT", title: "Head of IT", cloudOnly: true}
	case uSyncedGlobalAdmin:
		return special{display: "Sam Hybrid-Admin", upnLocal: "sam.hybridadmin", dept: "IT", title: "Infrastructure Lead", synced: true}
	case uGlobalAdminNoMFA:
		return special{display: "Legacy Admin", upnLocal: "legacy.admin", dept: "IT", title: "Former contractor", cloudOnly: true}
	case uExchangeAdminDisabled:
		return special{display: "Departed Exchange Admin", upnLocal: "departed.exadmin", dept: "IT", title: "Messaging Engineer", cloudOnly: true, disabled: true}
	case uGuestUserAdmin:
		return special{display: "Vendor Support (Partner)", upnLocal: "vendor.support", guest: true}
	case uHostileScript:
		return special{display: "<script>alert(1)</script>", upnLocal: "xss.test", dept: "Marketing", title: "<b>Intern</b>"}
	case uHostileQuoted:
		return special{display: `"quoted" & <b>bold</b>`, upnLocal: "quoted.user", dept: "Sales", title: `Sales "Lead" & Co`}
	case uHostileSQL:
		return special{display: "Robert'); DROP TABLE users;--", upnLocal: "bobby.tables", dept: "Engineering", title: "Software Engineer"}
	case uUnicode:
		return special{display: "Zoë Ångström-李 ‮evil", upnLocal: "zoe.angstrom", dept: "Research", title: "Research Scientist"}
	case uHybridAdmin:
		s.synced = true
	}
	return s
}

func (g *gen) users(n int) []User {
	us := make([]User, n)
	seen := make(map[string]int, n)
	phones := []string{}
	for i := range us {
		u := &us[i]
		u.ID = g.uuid()
		u.BusinessPhones = phones
		sp := g.specialUser(i)
		first, last := g.pick(firstNames), g.pick(lastNames)
		dept := departments[g.r.IntN(len(departments))]
		guest := sp.guest || (i >= uSpecialCount && g.pct(5))
		synced := sp.synced || (!sp.cloudOnly && !guest && i >= uSpecialCount && g.pct(30))
		enabled := !sp.disabled && (i < uSpecialCount || g.pct(95))
		u.DisplayName = first + " " + last
		u.GivenName, u.Surname = first, last
		local := strings.ToLower(first + "." + last)
		if sp.display != "" {
			u.DisplayName, u.GivenName, u.Surname = sp.display, "", ""
			local = sp.upnLocal
		}
		if c := seen[local]; c > 0 {
			seen[local] = c + 1
			local += strconv.Itoa(c + 1)
		} else {
			seen[local] = 1
		}
		if sp.dept != "" {
			dept = sp.dept
		}
		u.AccountEnabled = enabled
		u.CreatedDateTime = g.ago(30, 2400)
		if guest {
			host := g.pick(partnerHosts)
			u.UserType = "Guest"
			u.Mail = local + "@" + host
			u.UserPrincipalName = local + "_" + host + "#EXT#@" + g.init
			if sp.display == "" {
				u.DisplayName += " (Guest)"
			}
		} else {
			u.UserType = "Member"
			domain := g.domain
			if sp.cloudOnly {
				domain = g.init
			}
			u.UserPrincipalName = local + "@" + domain
			u.Mail = u.UserPrincipalName
			u.Department = dept
			u.JobTitle = sp.title
			if u.JobTitle == "" {
				u.JobTitle = g.pick(jobTitles[dept])
			}
			u.OfficeLocation = g.pick(offices)
			u.PreferredLanguage = "en-US"
			u.OnPremisesSyncEnabled = synced
			if g.pct(40) {
				u.MobilePhone = "+1 425 555 0" + strconv.Itoa(100+g.r.IntN(900))
			}
		}
		if sp.cloudOnly && i <= uBreakGlass2 {
			u.Mail = ""
		}
		u.SignInActivity = g.signIn(i, enabled, guest)
	}
	return us
}

func (g *gen) signIn(i int, enabled, guest bool) *SignInActivity {
	var last time.Time
	switch {
	case i == uBreakGlass1 || i == uBreakGlass2:
		last = g.ago(20, 60)
	case i == uGlobalAdminNoMFA:
		last = g.ago(190, 220)
	case i == uExchangeAdminDisabled:
		last = g.ago(100, 130)
	case !enabled:
		if g.pct(15) {
			return nil
		}
		last = g.ago(90, 400)
	case guest:
		switch r := g.r.IntN(100); {
		case r < 20:
			return nil
		case r < 50:
			last = g.ago(91, 500)
		default:
			last = g.ago(0, 60)
		}
	default:
		switch r := g.r.IntN(100); {
		case r < 4 && i >= uSpecialCount:
			return nil
		case r < 12:
			last = g.ago(31, 200)
		default:
			last = g.agoHours(0, 30*24)
		}
	}
	s := &SignInActivity{LastSignInDateTime: last, LastSuccessfulSignInDateTime: last}
	if g.pct(10) {
		// A recent failed interactive attempt after the last success.
		s.LastSuccessfulSignInDateTime = last.Add(-time.Duration(1+g.r.IntN(72)) * time.Hour)
	}
	if enabled && g.pct(80) {
		nonInt := last.Add(time.Duration(g.r.IntN(48*3600)) * time.Second)
		if nonInt.After(g.now) {
			nonInt = g.now.Add(-time.Minute)
		}
		s.LastNonInteractiveSignInDateTime = nonInt
	}
	return s
}

// groups returns all groups and the indexes of the CA-referenced ones;
// index 0 is the break-glass exclusion group and 1 the role-assignable
// Tier0 group.
func (g *gen) groups(users []User, nCA int) ([]Group, []int) {
	var gs []Group
	newGroup := func(name, desc string) *Group {
		gs = append(gs, Group{
			ID: g.uuid(), DisplayName: name, Description: desc, CreatedDateTime: g.ago(100, 1800),
			GroupTypes: []string{}, MailNickname: strings.ToLower(strings.NewReplacer(" ", "", "-", "", "&", "").Replace(name)),
			SecurityEnabled: true,
		})
		return &gs[len(gs)-1]
	}
	bg := newGroup("CA-Exclude-BreakGlass", "Emergency access accounts excluded from every Conditional Access policy")
	bg.Members = []string{users[uBreakGlass1].ID, users[uBreakGlass2].ID}
	t0 := newGroup("Tier0-SecOps", "Role-assignable group holding Security Administrator")
	t0.IsAssignableToRole = true
	t0.Members = []string{users[uSecOps1].ID, users[uSecOps2].ID}

	// CA groups: leaves hold users directly, parents nest leaves and earlier
	// parents (acyclic), and the first parent holds every leaf ("all staff").
	// nCA counts the break-glass group, which policies reference too.
	leaves := max(1, (nCA-1)*3/4)
	parents := nCA - 1 - leaves
	purposes := []string{"MFA", "Devices", "Pilot", "Location", "Session"}
	first := len(gs)
	for k := range leaves {
		dept := departments[k%len(departments)]
		newGroup(fmt.Sprintf("CA-%s-%s-%02d", purposes[k%len(purposes)], dept, k), "Conditional Access scope: "+dept)
	}
	// Regular users join one leaf each (round robin); specials stay out so the
	// admin and break-glass findings stay predictable.
	leafMembers := make([][]string, leaves)
	for i := uSpecialCount; i < len(users); i++ {
		if users[i].UserType == "Guest" {
			continue
		}
		k := i % leaves
		leafMembers[k] = append(leafMembers[k], users[i].ID)
	}
	for k := range leaves {
		gs[first+k].Members = leafMembers[k]
	}
	firstParent := len(gs)
	for p := range parents {
		name := fmt.Sprintf("CA-Parent-%02d", p)
		if p == 0 {
			name = "CA-All-Staff"
		}
		pg := newGroup(name, "Nested Conditional Access scope")
		if p == 0 {
			for k := range leaves {
				pg.Members = append(pg.Members, gs[first+k].ID)
			}
			continue
		}
		for range 2 + g.r.IntN(4) {
			id := gs[first+g.r.IntN(leaves)].ID
			if !contains(pg.Members, id) {
				pg.Members = append(pg.Members, id)
			}
		}
		if p > 1 && g.pct(50) {
			pg.Members = append(pg.Members, gs[firstParent+1+g.r.IntN(p-1)].ID)
		}
		for range 3 {
			pg.Members = append(pg.Members, users[uSpecialCount+g.r.IntN(len(users)-uSpecialCount)].ID)
		}
	}
	ca := []int{0}
	for i := first; i < len(gs); i++ {
		ca = append(ca, i)
	}

	// Groups outside Conditional Access.
	all := newGroup("All Company", "Everyone at the company")
	all.GroupTypes, all.MailEnabled, all.SecurityEnabled, all.Visibility = []string{"Unified"}, true, false, "Public"
	all.Mail = "allcompany@" + g.domain
	for i := 0; i < len(users) && i < 50; i++ {
		all.Members = append(all.Members, users[i].ID)
	}
	dyn := newGroup("Dynamic - Sales", "Dynamic membership by department")
	dyn.GroupTypes, dyn.MembershipRule = []string{"DynamicMembership"}, `user.department -eq "Sales"`
	dl := newGroup("Legacy Distribution List", "Mail-only list")
	dl.MailEnabled, dl.SecurityEnabled, dl.Mail = true, false, "legacy-dl@"+g.domain
	vpn := newGroup("SG-OnPrem-VPN", "Synchronised from on-premises AD")
	vpn.OnPremisesSyncEnabled = true
	vpn.Members = []string{users[uSyncedGlobalAdmin].ID, users[uHybridAdmin].ID}
	return gs, ca
}

type roleInfo struct {
	id, name, desc, action string
}

var builtInRoles = []roleInfo{
	{RoleGlobalAdministrator, "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.", "microsoft.directory/*/allTasks"},
	{RolePrivilegedRoleAdministrator, "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.", "microsoft.directory/roleAssignments/allProperties/allTasks"},
	{RoleSecurityAdministrator, "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.", "microsoft.directory/policies/basic/update"},
	{RoleExchangeAdministrator, "Exchange Administrator", "Can manage all aspects of the Exchange product.", "microsoft.office365.exchange/allEntities/basic/allTasks"},
	{RoleSharePointAdministrator, "SharePoint Administrator", "Can manage all aspects of the SharePoint service.", "microsoft.office365.sharePoint/allEntities/allTasks"},
	{RoleUserAdministrator, "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins.", "microsoft.directory/users/create"},
	{RoleHelpdeskAdministrator, "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators.", "microsoft.directory/users/password/update"},
	{RoleBillingAdministrator, "Billing Administrator", "Can perform common billing related tasks like updating payment information.", "microsoft.commerce.billing/allEntities/allProperties/allTasks"},
	{RoleConditionalAccessAdministrator, "Conditional Access Administrator", "Can manage Conditional Access capabilities.", "microsoft.directory/conditionalAccessPolicies/create"},
	{RoleApplicationAdministrator, "Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps.", "microsoft.directory/applications/create"},
	{RoleCloudApplicationAdministrator, "Cloud Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.", "microsoft.directory/applications/create"},
	{RoleHybridIdentityAdministrator, "Hybrid Identity Administrator", "Can manage Microsoft Entra Connect, Pass-through Authentication, Password Hash Synchronization and federation settings.", "microsoft.directory/onPremisesSynchronization/standard/read"},
	{RolePrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator", "Can access to view, set and reset authentication method information for any user (admin or non-admin).", "microsoft.directory/users/authenticationMethods/create"},
	{RoleAuthenticationAdministrator, "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user.", "microsoft.directory/users/authenticationMethods/create"},
	{roleGlobalReader, "Global Reader", "Can read everything that a Global Administrator can, but not update anything.", "microsoft.directory/*/read"},
	{roleSecurityReader, "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365.", "microsoft.directory/auditLogs/allProperties/read"},
}

func (g *gen) roleDefinitions() []RoleDefinition {
	out := make([]RoleDefinition, 0, len(builtInRoles)+1)
	for _, r := range builtInRoles {
		out = append(out, RoleDefinition{
			ID: r.id, TemplateID: r.id, DisplayName: r.name, Description: r.desc, IsBuiltIn: true, IsEnabled: true,
			ResourceScopes: []string{"/"}, Version: "1", RolePermissions: []RolePermission{{AllowedResourceActions: []string{r.action}}},
		})
	}
	id := g.uuid()
	out = append(out, RoleDefinition{
		ID: id, TemplateID: id, DisplayName: "Helpdesk Tier 2 (custom)", Description: "Reset passwords and read sign-in logs",
		IsEnabled: true, ResourceScopes: []string{"/"},
		RolePermissions: []RolePermission{{AllowedResourceActions: []string{"microsoft.directory/users/password/update", "microsoft.directory/signInReports/allProperties/read"}}},
	})
	return out
}

// guidBytes is the .NET byte order of a GUID, which Graph uses when it packs
// role and principal ids into a role assignment id.
func guidBytes(s string) []byte {
	h := strings.ReplaceAll(s, "-", "")
	b := make([]byte, 16)
	for i := range 16 {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		b[i] = byte(v)
	}
	b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
	b[4], b[5] = b[5], b[4]
	b[6], b[7] = b[7], b[6]
	return b
}

func roleAssignmentID(roleID, principalID string) string {
	return base64.RawURLEncoding.EncodeToString(append(guidBytes(roleID), guidBytes(principalID)...)) + "-1"
}

func (g *gen) roleAssignments(t *Tenant) []RoleAssignment {
	u := func(i int) string { return t.Users[i].ID }
	type pair struct{ role, principal string }
	pairs := []pair{
		{RoleGlobalAdministrator, u(uBreakGlass1)}, {RoleGlobalAdministrator, u(uBreakGlass2)}, {RoleGlobalAdministrator, u(uGlobalAdmin)},
		{RoleGlobalAdministrator, u(uSyncedGlobalAdmin)}, {RoleGlobalAdministrator, u(uGlobalAdminNoMFA)},
		{RolePrivilegedRoleAdministrator, u(uPrivRoleAdmin)},
		{RoleSecurityAdministrator, u(uSecAdmin1)}, {RoleSecurityAdministrator, u(uSecAdmin2)}, {RoleSecurityAdministrator, t.Groups[1].ID},
		{RoleExchangeAdministrator, u(uExchangeAdmin)}, {RoleExchangeAdministrator, u(uExchangeAdminDisabled)},
		{RoleSharePointAdministrator, u(uSharePointAdmin)},
		{RoleUserAdministrator, u(uUserAdmin1)}, {RoleUserAdministrator, u(uUserAdmin2)}, {RoleUserAdministrator, u(uGuestUserAdmin)},
		{RoleHelpdeskAdministrator, u(uHelpdesk1)}, {RoleHelpdeskAdministrator, u(uHelpdesk2)}, {RoleHelpdeskAdministrator, u(uHelpdesk3)},
		{RoleHelpdeskAdministrator, u(uHelpdesk4)}, {RoleHelpdeskAdministrator, u(uHelpdesk5)},
		{RoleBillingAdministrator, u(uBillingAdmin)}, {RoleConditionalAccessAdministrator, u(uCAAdmin)},
		{RoleApplicationAdministrator, u(uAppAdmin1)}, {RoleApplicationAdministrator, u(uAppAdmin2)},
		{RoleCloudApplicationAdministrator, u(uCloudAppAdmin)}, {RoleHybridIdentityAdministrator, u(uHybridAdmin)},
		{RolePrivilegedAuthenticationAdministrator, u(uPrivAuthAdmin)},
		{RoleAuthenticationAdministrator, u(uAuthAdmin1)}, {RoleAuthenticationAdministrator, u(uAuthAdmin2)},
		{roleGlobalReader, u(uSecAdmin1)}, {t.RoleDefinitions[len(t.RoleDefinitions)-1].ID, u(uHelpdesk1)},
	}
	out := make([]RoleAssignment, len(pairs))
	for i, p := range pairs {
		out[i] = RoleAssignment{ID: roleAssignmentID(p.role, p.principal), PrincipalID: p.principal, RoleDefinitionID: p.role, DirectoryScopeID: "/", ResourceScope: "/"}
	}
	return out
}

func (g *gen) roleEligibility(t *Tenant) []RoleEligibilitySchedule {
	mk := func(user int, role string, exp ExpirationPattern) RoleEligibilitySchedule {
		created := g.ago(30, 300)
		return RoleEligibilitySchedule{
			ID: g.uuid(), PrincipalID: t.Users[user].ID, RoleDefinitionID: role, DirectoryScopeID: "/", CreatedUsing: g.uuid(),
			CreatedDateTime: created, ModifiedDateTime: created, Status: "Provisioned", MemberType: "Direct",
			ScheduleInfo: RequestSchedule{StartDateTime: created, Expiration: exp},
		}
	}
	never := ExpirationPattern{Type: "noExpiration"}
	return []RoleEligibilitySchedule{
		mk(uEligibleGA1, RoleGlobalAdministrator, never),
		mk(uEligibleGA2, RoleGlobalAdministrator, ExpirationPattern{Type: "afterDateTime", EndDateTime: g.now.AddDate(0, 0, 30)}),
		mk(uEligiblePRA, RolePrivilegedRoleAdministrator, never),
		mk(uGlobalAdmin, RoleExchangeAdministrator, ExpirationPattern{Type: "afterDateTime", EndDateTime: g.now.AddDate(0, 6, 0)}),
	}
}

func (g *gen) registrationDetails(t *Tenant) []UserRegistrationDetails {
	admins := map[string]bool{}
	for _, a := range t.RoleAssignments {
		admins[a.PrincipalID] = true
	}
	for _, m := range t.Groups[1].Members {
		admins[m] = true
	}
	out := make([]UserRegistrationDetails, 0, len(t.Users))
	for i := range t.Users {
		u := &t.Users[i]
		// A few regular users are missing from the report (created after the
		// last refresh); at least three in every tenant.
		if i == uSpecialCount+2 || i == uSpecialCount+4 || i == uSpecialCount+6 || i > uSpecialCount+6 && g.r.IntN(1000) < 4 {
			u.CreatedDateTime = g.agoHours(1, 40)
			u.SignInActivity = nil
			continue
		}
		var methods []string
		switch {
		case i == uGlobalAdminNoMFA:
			methods = methodsEmail
		case i <= uBreakGlass2:
			methods = methodsStrong[3]
		case i == uSyncedGlobalAdmin:
			methods = methodsStrong[6]
		case i < uSpecialCount:
			methods = methodsStrong[g.r.IntN(6)]
		case g.pct(88):
			methods = methodsStrong[g.r.IntN(len(methodsStrong))]
		case g.pct(50):
			methods = methodsEmail
		default:
			methods = methodsNone
		}
		strong := len(methods) > 0 && methods[0] != "email"
		d := UserRegistrationDetails{
			ID: u.ID, UserPrincipalName: u.UserPrincipalName, UserDisplayName: u.DisplayName,
			UserType: strings.ToLower(u.UserType), IsAdmin: admins[u.ID],
			IsMfaRegistered: strong, IsMfaCapable: strong, IsSystemPreferredAuthenticationMethodEnabled: true,
			LastUpdatedDateTime: g.agoHours(0, 72), MethodsRegistered: methods,
			SystemPreferredAuthenticationMethods: prefNone,
		}
		for _, m := range methods {
			switch m {
			case "fido2", "windowsHelloForBusiness", "microsoftAuthenticatorPasswordless":
				d.IsPasswordlessCapable = true
			}
		}
		d.IsSsprEnabled = u.UserType == "Member"
		d.IsSsprRegistered = len(methods) > 0
		d.IsSsprCapable = d.IsSsprEnabled && d.IsSsprRegistered
		switch {
		case !strong:
		case methods[0] == "fido2":
			d.SystemPreferredAuthenticationMethods, d.UserPreferredMethodForSecondaryAuthentication = prefFido, "push"
		case methods[0] == "mobilePhone":
			d.SystemPreferredAuthenticationMethods, d.UserPreferredMethodForSecondaryAuthentication = prefSMS, "sms"
		default:
			d.SystemPreferredAuthenticationMethods, d.UserPreferredMethodForSecondaryAuthentication = prefPush, "push"
		}
		out = append(out, d)
	}
	return out
}

func (g *gen) namedLocations() []NamedLocation {
	yes, no := true, false
	created := g.ago(300, 900)
	return []NamedLocation{
		{ODataType: ODataIPNamedLocation, ID: g.uuid(), DisplayName: "Corporate HQ", CreatedDateTime: created, ModifiedDateTime: created.AddDate(0, 2, 0),
			IsTrusted: &yes, IPRanges: []IPRange{{ODataType: ODataIPv4CidrRange, CIDRAddress: "203.0.113.0/24"}, {ODataType: ODataIPv6CidrRange, CIDRAddress: "2001:db8:1200::/48"}}},
		{ODataType: ODataIPNamedLocation, ID: g.uuid(), DisplayName: "Branch offices", CreatedDateTime: created, ModifiedDateTime: created,
			IsTrusted: &no, IPRanges: []IPRange{{ODataType: ODataIPv4CidrRange, CIDRAddress: "198.51.100.0/25"}}},
		{ODataType: ODataCountryNamedLocation, ID: g.uuid(), DisplayName: "Blocked countries", CreatedDateTime: created, ModifiedDateTime: created.AddDate(0, 4, 0),
			CountriesAndRegions: []string{"KP", "IR", "RU"}, CountryLookupMethod: "clientIpAddress", IncludeUnknownCountriesAndRegions: &yes},
	}
}

// caPolicy returns a policy with Graph's empty-list defaults filled in.
func (g *gen) caPolicy(name, state string) ConditionalAccessPolicy {
	created := g.ago(60, 700)
	return ConditionalAccessPolicy{
		ID: g.uuid(), DisplayName: name, State: state, CreatedDateTime: created, ModifiedDateTime: created.AddDate(0, 0, g.r.IntN(50)),
		Conditions: ConditionalAccessConditionSet{
			UserRiskLevels: []string{}, SignInRiskLevels: []string{}, ClientAppTypes: []string{"all"}, ServicePrincipalRiskLevels: []string{},
			Applications: ConditionalAccessApplications{IncludeApplications: []string{"All"}, ExcludeApplications: []string{}, IncludeUserActions: []string{}, IncludeAuthenticationContextClassReferences: []string{}},
			Users:        ConditionalAccessUsers{IncludeUsers: []string{"All"}, ExcludeUsers: []string{}, IncludeGroups: []string{}, ExcludeGroups: []string{}, IncludeRoles: []string{}, ExcludeRoles: []string{}},
		},
	}
}

func grant(op string, controls ...string) *ConditionalAccessGrantControls {
	return &ConditionalAccessGrantControls{Operator: op, BuiltInControls: controls, CustomAuthenticationFactors: []string{}, TermsOfUse: []string{}}
}

var adminRoles = []string{
	RoleGlobalAdministrator, RolePrivilegedRoleAdministrator, RoleSecurityAdministrator, RoleExchangeAdministrator,
	RoleSharePointAdministrator, RoleUserAdministrator, RoleHelpdeskAdministrator, RoleBillingAdministrator,
	RoleConditionalAccessAdministrator, RoleApplicationAdministrator, RoleCloudApplicationAdministrator,
	RoleHybridIdentityAdministrator, RolePrivilegedAuthenticationAdministrator, RoleAuthenticationAdministrator,
}

func (g *gen) caPolicies(t *Tenant, caGroups []int) []ConditionalAccessPolicy {
	bg := t.Groups[0].ID
	excludeBG := func(p *ConditionalAccessPolicy) { p.Conditions.Users.ExcludeGroups = []string{bg} }
	var ps []ConditionalAccessPolicy

	p := g.caPolicy("Require MFA for all users", "enabled")
	excludeBG(&p)
	p.GrantControls = grant("OR", "mfa")
	ps = append(ps, p)

	p = g.caPolicy("Block legacy authentication", "enabled")
	excludeBG(&p)
	p.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"}
	p.GrantControls = grant("OR", "block")
	ps = append(ps, p)

	p = g.caPolicy("Block high-risk sign-ins", "enabledForReportingButNotEnforced")
	excludeBG(&p)
	p.Conditions.SignInRiskLevels = []string{"high"}
	p.GrantControls = grant("OR", "block")
	ps = append(ps, p)

	p = g.caPolicy("Require password change for high-risk users", "enabledForReportingButNotEnforced")
	excludeBG(&p)
	p.Conditions.UserRiskLevels = []string{"high"}
	p.GrantControls = grant("AND", "mfa", "passwordChange")
	ps = append(ps, p)

	p = g.caPolicy("Require phishing-resistant MFA for admins", "enabled")
	p.Conditions.Users.IncludeUsers = []string{}
	p.Conditions.Users.IncludeRoles = adminRoles
	excludeBG(&p)
	p.GrantControls = grant("OR")
	p.GrantControls.AuthenticationStrength = &AuthenticationStrengthPolicy{
		ID: phishingResistantStrength, CreatedDateTime: time.Date(2022, 12, 1, 0, 0, 0, 0, time.UTC), ModifiedDateTime: time.Date(2022, 12, 1, 0, 0, 0, 0, time.UTC),
		DisplayName: "Phishing-resistant MFA", Description: "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
		PolicyType: "builtIn", RequirementsSatisfied: "mfa", AllowedCombinations: []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"},
	}
	ps = append(ps, p)

	trusted := t.NamedLocations[0].ID
	p = g.caPolicy("Require MFA outside trusted locations", "enabled")
	p.Conditions.Users.IncludeUsers = []string{}
	allStaff := t.Groups[caGroups[len(caGroups)-1]].ID
	for _, gi := range caGroups {
		if t.Groups[gi].DisplayName == "CA-All-Staff" {
			allStaff = t.Groups[gi].ID
		}
	}
	p.Conditions.Users.IncludeGroups = []string{allStaff}
	excludeBG(&p)
	p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{"All"}, ExcludeLocations: []string{trusted, "AllTrusted"}}
	p.GrantControls = grant("OR", "mfa")
	ps = append(ps, p)

	p = g.caPolicy("Block access from blocked countries", "enabled")
	excludeBG(&p)
	p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{t.NamedLocations[2].ID}, ExcludeLocations: []string{}}
	p.GrantControls = grant("OR", "block")
	ps = append(ps, p)

	p = g.caPolicy("Require MFA for guests", "enabled")
	p.Conditions.Users.IncludeUsers = []string{}
	p.Conditions.Users.IncludeGuestsOrExternalUsers = &ConditionalAccessGuestsOrExternalUsers{
		GuestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider",
		ExternalTenants:          &ConditionalAccessExternalTenants{ODataType: "#microsoft.graph.conditionalAccessAllExternalTenants", MembershipKind: "all"},
	}
	p.GrantControls = grant("OR", "mfa")
	ps = append(ps, p)

	p = g.caPolicy("Require MFA to register security info", "enabled")
	p.Conditions.Applications.IncludeApplications = []string{}
	p.Conditions.Applications.IncludeUserActions = []string{"urn:user:registersecurityinfo"}
	excludeBG(&p)
	p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{"All"}, ExcludeLocations: []string{"AllTrusted"}}
	p.GrantControls = grant("OR", "mfa")
	ps = append(ps, p)

	p = g.caPolicy("Require MFA for Azure management", "enabled")
	p.Conditions.Applications.IncludeApplications = []string{appAzureManagement}
	excludeBG(&p)
	p.GrantControls = grant("OR", "mfa")
	ps = append(ps, p)

	p = g.caPolicy("Sign-in frequency for unmanaged devices", "enabled")
	p.Conditions.Applications.IncludeApplications = []string{"Office365"}
	p.Conditions.Devices = &ConditionalAccessDevices{DeviceFilter: &ConditionalAccessFilter{Mode: "exclude", Rule: `device.isCompliant -eq True -or device.trustType -eq "ServerAD"`}}
	p.SessionControls = &ConditionalAccessSessionControls{
		SignInFrequency:   &SignInFrequency{IsEnabled: true, Type: "hours", Value: 12, AuthenticationType: "primaryAndSecondaryAuthentication", FrequencyInterval: "timeBased"},
		PersistentBrowser: &PersistentBrowser{IsEnabled: true, Mode: "never"},
	}
	ps = append(ps, p)

	p = g.caPolicy("OLD - Require compliant device for Exchange (replaced)", "disabled")
	p.Conditions.Applications.IncludeApplications = []string{appExchangeOnline}
	p.Conditions.ClientAppTypes = []string{"browser", "mobileAppsAndDesktopClients"}
	p.GrantControls = grant("OR", "compliantDevice")
	ps = append(ps, p)

	// Every other CA group is referenced by a ring policy: three included and
	// up to two excluded groups each, with states and grants varying.
	refs := caGroups[1:]
	states := []string{"enabled", "enabledForReportingButNotEnforced", "enabled", "disabled"}
	for k := 0; k*3 < len(refs); k++ {
		inc := refs[k*3 : min(k*3+3, len(refs))]
		p = g.caPolicy(fmt.Sprintf("Ring %02d: require compliant or hybrid-joined device", k+1), states[k%len(states)])
		p.Conditions.Users.IncludeUsers = []string{}
		for _, gi := range inc {
			p.Conditions.Users.IncludeGroups = append(p.Conditions.Users.IncludeGroups, t.Groups[gi].ID)
		}
		p.Conditions.Users.ExcludeGroups = []string{bg}
		for range 2 {
			if id := t.Groups[refs[g.r.IntN(len(refs))]].ID; !contains(p.Conditions.Users.ExcludeGroups, id) && !contains(p.Conditions.Users.IncludeGroups, id) {
				p.Conditions.Users.ExcludeGroups = append(p.Conditions.Users.ExcludeGroups, id)
			}
		}
		switch k % 3 {
		case 0:
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"windows", "macOS"}, ExcludePlatforms: []string{}}
			p.GrantControls = grant("OR", "compliantDevice", "domainJoinedDevice")
		case 1:
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"android", "iOS"}, ExcludePlatforms: []string{}}
			p.GrantControls = grant("OR", "approvedApplication", "compliantApplication")
		default:
			p.GrantControls = grant("AND", "mfa", "compliantDevice")
		}
		ps = append(ps, p)
	}
	return ps
}

func (g *gen) authorizationPolicy() AuthorizationPolicy {
	return AuthorizationPolicy{
		ID: "authorizationPolicy", DisplayName: "Authorization Policy", Description: "Used to manage authorization related settings across the company.",
		AllowInvitesFrom: "everyone", AllowedToSignUpEmailBasedSubscriptions: true, AllowedToUseSSPR: true,
		AllowEmailVerifiedUsersToJoinOrganization: false, BlockMsolPowerShell: false, GuestUserRoleID: guestUserRoleID,
		DefaultUserRolePermissions: DefaultUserRolePermissions{
			AllowedToCreateApps: true, AllowedToCreateSecurityGroups: true, AllowedToCreateTenants: true,
			AllowedToReadBitlockerKeysForOwnedDevice: true, AllowedToReadOtherUsers: true,
			PermissionGrantPoliciesAssigned: []string{"ManagePermissionGrantsForSelf.microsoft-user-default-legacy", "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"},
		},
	}
}

func (g *gen) riskyUsers(t *Tenant) []RiskyUser {
	n := max(5, len(t.Users)/100)
	var out []RiskyUser
	add := func(u *User, level, state, detail string) {
		out = append(out, RiskyUser{ID: u.ID, RiskLastUpdatedDateTime: g.agoHours(1, 60*24), RiskLevel: level, RiskState: state,
			RiskDetail: detail, UserDisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName})
	}
	// One at-risk administrator, always.
	add(&t.Users[uHelpdesk2], "high", "atRisk", "none")
	used := map[int]bool{uHelpdesk2: true}
	for attempts := 0; len(out) < n && attempts < 50*n; attempts++ {
		i := uSpecialCount + g.r.IntN(len(t.Users)-uSpecialCount)
		if used[i] || !t.Users[i].AccountEnabled {
			continue
		}
		used[i] = true
		switch r := g.r.IntN(100); {
		case r < 50:
			add(&t.Users[i], []string{"high", "medium", "low"}[g.r.IntN(3)], "atRisk", "none")
		case r < 60:
			add(&t.Users[i], "high", "confirmedCompromised", "adminConfirmedUserCompromised")
		case r < 85:
			add(&t.Users[i], "none", "remediated", "userPerformedSecuredPasswordChange")
		default:
			add(&t.Users[i], "none", "dismissed", "adminDismissedAllRiskForUser")
		}
	}
	return out
}

// riskDetections gives every at-risk or compromised user the detection that
// raised the risk, some minutes before Identity Protection recorded it.
func (g *gen) riskDetections(t *Tenant) []RiskDetection {
	events := []string{"unfamiliarFeatures", "anonymizedIPAddress", "impossibleTravel", "leakedCredentials", "passwordSpray"}
	var out []RiskDetection
	for _, r := range t.RiskyUsers {
		if r.RiskState != "atRisk" && r.RiskState != "confirmedCompromised" {
			continue
		}
		detected := r.RiskLastUpdatedDateTime.Add(-time.Duration(1+g.r.IntN(30)) * time.Minute)
		out = append(out, RiskDetection{
			ID: g.uuid(), RequestID: g.uuid(), CorrelationID: g.uuid(), RiskEventType: events[g.r.IntN(len(events))],
			RiskState: r.RiskState, RiskLevel: r.RiskLevel, RiskDetail: r.RiskDetail, Source: "IdentityProtection",
			DetectionTimingType: "realtime", Activity: "signin", IPAddress: fmt.Sprintf("203.0.113.%d", 1+g.r.IntN(250)),
			ActivityDateTime: detected.Add(-time.Duration(5+g.r.IntN(120)) * time.Minute), DetectedDateTime: detected,
			LastUpdatedDateTime: r.RiskLastUpdatedDateTime, UserID: r.ID, UserDisplayName: r.UserDisplayName, UserPrincipalName: r.UserPrincipalName,
		})
	}
	return out
}

type osInfo struct {
	os, agent, enroll, manufacturer, model string
	versions                               []string
}

var osMix = []struct {
	pct  int
	info osInfo
}{
	{58, osInfo{"Windows", "mdm", "windowsAzureADJoin", "Dell Inc.", "Latitude 7440", []string{"10.0.22631.4317", "10.0.22631.3880", "10.0.19045.5011", "10.0.26100.2161"}}},
	{16, osInfo{"iOS", "mdm", "appleBulkWithUser", "Apple", "iPhone 15", []string{"17.5.1", "17.6", "18.0.1", "16.7.8"}}},
	{12, osInfo{"Android", "mdm", "androidEnterpriseWorkProfile", "samsung", "SM-S911B", []string{"14", "13", "12"}}},
	{14, osInfo{"macOS", "mdm", "appleBulkWithUser", "Apple", "MacBookPro18,3", []string{"14.5", "14.6.1", "13.6.7"}}},
}

func (g *gen) devices(users []User, n int) []ManagedDevice {
	ds := make([]ManagedDevice, n)
	for i := range ds {
		d := &ds[i]
		d.ID = g.uuid()
		r := g.r.IntN(100)
		var os osInfo
		for _, m := range osMix {
			if r < m.pct {
				os = m.info
				break
			}
			r -= m.pct
		}
		if i == 0 || i == 1 {
			os = osMix[0].info
		}
		owner := &users[uSpecialCount+g.r.IntN(len(users)-uSpecialCount)]
		if owner.UserType == "Guest" || g.pct(8) {
			owner = nil
		}
		first := "Shared"
		if owner != nil {
			d.UserID, d.UserPrincipalName, d.UserDisplayName, d.EmailAddress = owner.ID, owner.UserPrincipalName, owner.DisplayName, owner.Mail
			if owner.GivenName != "" {
				first = owner.GivenName
			}
		}
		switch os.os {
		case "Windows":
			prefix := "LAPTOP-"
			if g.pct(30) {
				prefix = "DESKTOP-"
			}
			d.DeviceName = prefix + g.alnum(7)
			if g.pct(20) {
				os.agent = "configurationManagerClientMdm"
			}
		case "iOS":
			d.DeviceName = first + "'s iPhone"
		case "Android":
			d.DeviceName = "Galaxy S23 (" + first + ")"
		default:
			d.DeviceName = first + "'s MacBook Pro"
		}
		switch i {
		case 0:
			d.DeviceName = "<img src=x onerror=alert(1)>"
		case 1:
			d.DeviceName = `"quoted" & <b>`
		}
		d.OperatingSystem, d.ManagementAgent, d.DeviceEnrollmentType = os.os, os.agent, os.enroll
		d.Manufacturer, d.Model = os.manufacturer, os.model
		d.OSVersion = g.pick(os.versions)
		d.SerialNumber = g.alnum(10)
		d.AzureADDeviceID = g.uuid()
		d.AzureADRegistered = true
		d.DeviceRegistrationState = "registered"
		d.EnrolledDateTime = g.ago(20, 1000)
		if g.pct(90) {
			d.LastSyncDateTime = g.agoHours(0, 72)
		} else {
			d.LastSyncDateTime = g.ago(8, 90)
		}
		d.ManagedDeviceOwnerType = "company"
		if (os.os == "iOS" || os.os == "Android") && g.pct(40) || g.pct(5) {
			d.ManagedDeviceOwnerType = "personal"
		}
		switch r := g.r.IntN(100); {
		case r < 80:
			d.ComplianceState = "compliant"
		case r < 92:
			d.ComplianceState = "noncompliant"
		case r < 95:
			d.ComplianceState = "inGracePeriod"
		case r < 98:
			d.ComplianceState = "unknown"
		case r < 99:
			d.ComplianceState = "error"
		default:
			d.ComplianceState = "conflict"
		}
		d.IsEncrypted = d.ComplianceState == "compliant" && g.pct(98) || d.ComplianceState != "compliant" && g.pct(50)
		d.JailBroken = "Unknown"
		if os.os == "iOS" || os.os == "Android" {
			d.JailBroken = "False"
			if g.pct(1) {
				d.JailBroken, d.ComplianceState = "True", "noncompliant"
			}
		}
		if os.os == "Windows" {
			d.WindowsProtectionState = g.protection(d)
		}
	}
	return ds
}

func (g *gen) protection(d *ManagedDevice) *WindowsProtectionState {
	if g.pct(4) {
		return nil
	}
	sigBuild := 400 + g.r.IntN(20)
	sig := "1.4" + strconv.Itoa(sigBuild) + "." + strconv.Itoa(g.r.IntN(400)) + ".0"
	p := &WindowsProtectionState{
		ID: d.ID, MalwareProtectionEnabled: true, DeviceState: "clean", RealTimeProtectionEnabled: true, NetworkInspectionSystemEnabled: true,
		EngineVersion: "1.1.24080.9", SignatureVersion: sig, AntiMalwareVersion: "4.18.24080.9",
		LastQuickScanDateTime: g.agoHours(1, 48), LastFullScanDateTime: g.ago(3, 30),
		LastQuickScanSignatureVersion: sig, LastFullScanSignatureVersion: sig,
		LastReportedDateTime: g.agoHours(0, 20), ProductStatus: "noStatus", TamperProtectionEnabled: true,
		IsVirtualMachine: g.pct(3),
	}
	switch r := g.r.IntN(100); {
	case r < 6:
		p.RealTimeProtectionEnabled = false
		p.ProductStatus = "serviceStartedWithoutMalwareProtection"
	case r < 13:
		// Stopped reporting: everything is as stale as the last report.
		p.LastReportedDateTime = g.ago(8, 60)
		p.LastQuickScanDateTime = p.LastReportedDateTime.Add(-6 * time.Hour)
		p.SignatureUpdateOverdue, p.QuickScanOverdue = true, true
		p.ProductStatus = "avSignaturesOutOfDate,noQuickScanHappenedForSpecifiedPeriod"
	case r < 16:
		p.MalwareProtectionEnabled, p.RealTimeProtectionEnabled = false, false
		p.DeviceState, p.ProductStatus = "critical", "serviceNotRunning"
	case r < 19:
		p.RebootRequired, p.DeviceState, p.ProductStatus = true, "rebootPending", "pendingRebootDueToThreatAction"
	case r < 21:
		p.TamperProtectionEnabled = false
	case r < 25:
		p.QuickScanOverdue, p.FullScanRequired = true, true
		p.ProductStatus = "noQuickScanHappenedForSpecifiedPeriod"
	}
	return p
}

type controlDef struct {
	id, title, category, service, tier, impact, cost string
	max                                              float64
	threats                                          []string
}

var controls = []controlDef{
	{"AdminMFAV2", "Ensure multifactor authentication is enabled for all users in administrative roles", "Identity", "AzureAD", "Core", "Low", "Low", 10, []string{"Account breach", "Elevation of privilege"}},
	{"MFARegistrationV2", "Ensure multifactor authentication is enabled for all users", "Identity", "AzureAD", "Core", "Moderate", "Moderate", 9, []string{"Account breach", "Password cracking"}},
	{"BlockLegacyAuthentication", "Enable Conditional Access policies to block legacy authentication", "Identity", "AzureAD", "Core", "Moderate", "Moderate", 8, []string{"Password spray", "Account breach"}},
	{"SigninRiskPolicy", "Ensure that sign-in risk policy is enabled", "Identity", "AzureAD", "Core", "Moderate", "Moderate", 7, []string{"Account breach"}},
	{"UserRiskPolicy", "Ensure user risk policy is enabled", "Identity", "AzureAD", "Core", "Moderate", "Moderate", 7, []string{"Account breach"}},
	{"OneAdmin", "Designate more than one global admin", "Identity", "AzureAD", "Core", "Low", "Low", 1, []string{"Account breach"}},
	{"PWAgePolicyNew", "Ensure the 'Password expiration policy' is set to 'Set passwords to never expire (recommended)'", "Identity", "AzureAD", "Core", "Low", "Low", 8, []string{"Password cracking"}},
	{"SelfServicePasswordReset", "Enable self-service password reset", "Identity", "AzureAD", "Core", "Low", "Low", 1, []string{"Account breach"}},
	{"IntegratedApps", "Ensure 'User consent to apps accessing company data on their behalf' is set to 'Do not allow user consent'", "Identity", "AzureAD", "Core", "Moderate", "Low", 4, []string{"Data exfiltration", "Malicious insider"}},
	{"RoleOverlap", "Use least privileged administrative roles", "Identity", "AzureAD", "Core", "Low", "Low", 1, []string{"Elevation of privilege"}},
	{"aad_admin_accounts_separate_unassigned_cloud_only", "Ensure Administrative accounts are cloud-only", "Identity", "AzureAD", "Core", "Low", "Moderate", 3, []string{"Elevation of privilege"}},
	{"mdo_safelinksforemail", "Create Safe Links policies for email messages", "Apps", "MDO", "Core", "Low", "Low", 9, []string{"Phishing"}},
	{"mdo_atpprotection", "Ensure that Defender for Office 365 is enabled for SharePoint, OneDrive, and Microsoft Teams", "Apps", "MDO", "Core", "Low", "Low", 8, []string{"Malware"}},
	{"meeting_restrictanonymousjoin_v1", "Restrict anonymous users from joining meetings", "Apps", "Teams", "Defense in Depth", "Moderate", "Low", 8, []string{"Data exfiltration"}},
	{"scid_2010", "Turn on real-time protection", "Device", "MDATP", "Core", "Low", "Low", 9, []string{"Malware"}},
	{"scid_5095", "Block credential stealing from the Windows local security authority subsystem", "Device", "MDATP", "Defense in Depth", "Low", "Moderate", 8, []string{"Credential theft"}},
}

func (g *gen) controlProfiles() []SecureScoreControlProfile {
	out := make([]SecureScoreControlProfile, len(controls))
	for i, c := range controls {
		out[i] = SecureScoreControlProfile{
			ID: c.id, AzureTenantID: g.tenant, ActionType: "Config", ActionURL: "https://security.microsoft.com/securescore?viewid=actions&actionId=" + c.id,
			ControlCategory: c.category, Title: c.title, ImplementationCost: c.cost, LastModifiedDateTime: g.ago(30, 200),
			MaxScore: c.max, Rank: i + 1, Remediation: "<p>" + c.title + ".</p>", RemediationImpact: "<p>Users may be prompted to change how they sign in.</p>",
			Service: c.service, Threats: c.threats, Tier: c.tier, UserImpact: c.impact,
			VendorInformation: SecurityVendorInformation{Provider: "SecureScore", Vendor: "Microsoft"},
		}
	}
	return out
}

// secureScores returns 90 daily scores, newest first. The score climbs slowly
// and drops over the last four days as MFA registration and legacy-auth
// controls regress.
func (g *gen) secureScores(t *Tenant, profiles []SecureScoreControlProfile) []SecureScore {
	base := make([]float64, len(controls))
	for i, c := range controls {
		base[i] = float64(int(c.max*(0.35+0.5*g.r.Float64())*100)) / 100
	}
	active, licensed := 0, 0
	for i := range t.Users {
		if t.Users[i].AccountEnabled {
			active++
		}
		if t.Users[i].UserType == "Member" {
			licensed++
		}
	}
	var maxScore float64
	for _, c := range controls {
		maxScore += c.max
	}
	today := time.Date(g.now.Year(), g.now.Month(), g.now.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]SecureScore, 90)
	for d := range 90 {
		day := today.AddDate(0, 0, -d)
		var scores []ControlScore
		var total float64
		for i, c := range controls {
			s := base[i]
			// Slow improvement over the quarter.
			s = min(c.max, s+float64(90-d)*0.004*c.max)
			if d < 4 && (c.id == "MFARegistrationV2" || c.id == "BlockLegacyAuthentication") {
				s *= 0.55
			}
			s = float64(int(s*100)) / 100
			total += s
			status := "Partially implemented"
			if s >= c.max {
				status = "Implemented"
			}
			scores = append(scores, ControlScore{ControlCategory: c.category, ControlName: c.id, Description: profiles[i].Title,
				Score: s, ScoreInPercentage: float64(int(s/c.max*10000)) / 100, ImplementationStatus: status, LastSynced: day})
		}
		out[d] = SecureScore{
			ID: g.tenant + "_" + day.Format("2006-01-02"), AzureTenantID: g.tenant, ActiveUserCount: active, LicensedUserCount: licensed,
			CreatedDateTime: day, CurrentScore: float64(int(total*100)) / 100, MaxScore: maxScore,
			EnabledServices:          []string{"HasExchange", "HasSharePoint", "HasOD4B", "HasIntune", "HasMDO", "HasMDE", "HasAADPremiumP2"},
			VendorInformation:        SecurityVendorInformation{Provider: "SecureScore", Vendor: "Microsoft"},
			AverageComparativeScores: []AverageComparativeScore{{Basis: "AllTenants", AverageScore: 42.17}, {Basis: "TotalSeats", AverageScore: 39.85}},
			ControlScores:            scores,
		}
	}
	return out
}

func (g *gen) backup() (BackupRestoreRoot, []ProtectionPolicy) {
	app := &IdentitySet{Application: &Identity{ID: g.uuid(), DisplayName: "Microsoft 365 Backup Controller"}}
	admin := &IdentitySet{User: &Identity{ID: g.uuid(), DisplayName: "Alex Admin"}}
	root := BackupRestoreRoot{ID: g.uuid(), ServiceStatus: ServiceStatus{
		BackupServiceConsumer: "firstparty", Status: "enabled", DisableReason: "none", LastModifiedBy: app, LastModifiedDateTime: g.ago(100, 200),
	}}
	ret := []RetentionSetting{{Interval: "PT10M", Period: "P14D"}, {Interval: "P7D", Period: "P1Y"}}
	mk := func(typ, name, status string) ProtectionPolicy {
		created := g.ago(60, 200)
		return ProtectionPolicy{ODataType: typ, ID: g.uuid(), DisplayName: name, Status: status, CreatedBy: admin, CreatedDateTime: created,
			LastModifiedBy: admin, LastModifiedDateTime: created.AddDate(0, 0, g.r.IntN(30)), RetentionSettings: ret}
	}
	return root, []ProtectionPolicy{
		mk(ODataExchangeProtectionPolicy, "Executive mailboxes", "active"),
		mk(ODataSharePointProtectionPolicy, "Finance & Legal sites", "active"),
		mk(ODataOneDriveProtectionPolicy, "OneDrive - pilot users", "activeWithErrors"),
		mk(ODataExchangeProtectionPolicy, "Test policy (old)", "inactive"),
	}
}

type alertKind struct {
	source, detection, product, category, title, severity, prefix string
	technique                                                     string
}

var alertKinds = []alertKind{
	{"microsoftDefenderForEndpoint", "antivirus", "Microsoft Defender for Endpoint", "Execution", "Suspicious PowerShell command line", "medium", "da", "T1059.001"},
	{"microsoftDefenderForEndpoint", "microsoftDefenderForEndpoint", "Microsoft Defender for Endpoint", "CredentialAccess", "Possible credential theft activity", "high", "da", "T1003"},
	{"microsoftDefenderForOffice365", "microsoftDefenderForOffice365", "Microsoft Defender for Office 365", "InitialAccess", "Email messages containing malicious URL removed after delivery", "informational", "fa", "T1566.002"},
	{"azureAdIdentityProtection", "azureAdIdentityProtection", "Microsoft Entra ID Protection", "InitialAccess", "Anonymous IP address", "medium", "ad", "T1078"},
	{"azureAdIdentityProtection", "azureAdIdentityProtection", "Microsoft Entra ID Protection", "InitialAccess", "Impossible travel activity", "high", "ad", "T1078"},
	{"microsoftDefenderForCloudApps", "microsoftDefenderForCloudApps", "Microsoft Defender for Cloud Apps", "Exfiltration", "Mass download by a single user", "low", "ca", "T1530"},
	{"microsoftDefenderForIdentity", "microsoftDefenderForIdentity", "Microsoft Defender for Identity", "CredentialAccess", "Suspected brute-force attack (LDAP)", "medium", "aa", "T1110"},
}

func (g *gen) alerts(t *Tenant, n int) []Alert {
	var windows []int
	for i := range t.ManagedDevices {
		if t.ManagedDevices[i].OperatingSystem == "Windows" && t.ManagedDevices[i].UserID != "" {
			windows = append(windows, i)
		}
	}
	atRisk := []int{}
	byID := map[string]int{}
	for i := range t.Users {
		byID[t.Users[i].ID] = i
	}
	for _, r := range t.RiskyUsers {
		if r.RiskState == "atRisk" || r.RiskState == "confirmedCompromised" {
			atRisk = append(atRisk, byID[r.ID])
		}
	}
	out := make([]Alert, 0, n)
	incident := 1000 + g.r.IntN(9000)
	for len(out) < n {
		incident++
		size := 1 + g.r.IntN(3)
		for k := 0; k < size && len(out) < n; k++ {
			kind := alertKinds[g.r.IntN(len(alertKinds))]
			if len(out) < len(alertKinds) {
				// Every source appears at least once.
				kind = alertKinds[len(out)]
			}
			ui := uSpecialCount + g.r.IntN(len(t.Users)-uSpecialCount)
			if kind.source == "azureAdIdentityProtection" && len(atRisk) > 0 {
				ui = atRisk[g.r.IntN(len(atRisk))]
			}
			var dev *ManagedDevice
			if kind.source == "microsoftDefenderForEndpoint" && len(windows) > 0 {
				dev = &t.ManagedDevices[windows[g.r.IntN(len(windows))]]
				ui = byID[dev.UserID]
			}
			if len(out) == 0 {
				// The first alert always involves the hostile-named user.
				ui = uHostileScript
			}
			u := &t.Users[ui]
			created := g.agoHours(1, 30*24)
			first := created.Add(-time.Duration(5+g.r.IntN(360)) * time.Minute)
			id := kind.prefix + strconv.FormatUint(g.r.Uint64()%1e18, 10) + "_" + strconv.Itoa(-g.r.IntN(1e9))
			a := Alert{
				ID: id, ProviderAlertID: id[2:], IncidentID: strconv.Itoa(incident), Severity: kind.severity,
				ServiceSource: kind.source, DetectionSource: kind.detection, ProductName: kind.product, DetectorID: g.uuid(),
				TenantID: t.ID, Title: kind.title, Category: kind.category,
				Description:        kind.title + " was observed for " + u.DisplayName + ".",
				RecommendedActions: "Investigate the user and device timeline.",
				AlertWebURL:        "https://security.microsoft.com/alerts/" + id + "?tid=" + t.ID,
				IncidentWebURL:     "https://security.microsoft.com/incidents/" + strconv.Itoa(incident) + "?tid=" + t.ID,
				MitreTechniques:    []string{kind.technique},
				CreatedDateTime:    created, FirstActivityDateTime: first,
				LastActivityDateTime: created.Add(-time.Duration(g.r.IntN(5)) * time.Minute),
				LastUpdateDateTime:   created.Add(time.Duration(g.r.IntN(48*60)) * time.Minute),
				Comments:             []AlertComment{},
			}
			if a.LastUpdateDateTime.After(g.now) {
				a.LastUpdateDateTime = g.now.Add(-time.Minute)
			}
			switch r := g.r.IntN(100); {
			case r < 55:
				a.Status, a.Classification, a.Determination = "new", "", ""
			case r < 80:
				a.Status, a.AssignedTo = "inProgress", t.Users[uSecAdmin1].UserPrincipalName
			default:
				a.Status, a.AssignedTo = "resolved", t.Users[uSecAdmin2].UserPrincipalName
				a.ResolvedDateTime = a.LastUpdateDateTime
				if g.pct(60) {
					a.Classification, a.Determination = "truePositive", "compromisedUser"
				} else {
					a.Classification, a.Determination = "falsePositive", "clean"
				}
				a.Comments = []AlertComment{{Comment: "Reviewed by SOC", CreatedByDisplayName: t.Users[uSecAdmin2].DisplayName, CreatedDateTime: a.ResolvedDateTime}}
			}
			ev := evidenceBase(created)
			acct := &UserAccount{AccountName: strings.SplitN(u.UserPrincipalName, "@", 2)[0], AzureAdUserID: u.ID, DisplayName: u.DisplayName,
				DomainName: g.domain, UserPrincipalName: u.UserPrincipalName}
			userEv := ev
			userEv.ODataType, userEv.UserAccount, userEv.Roles = ODataUserEvidence, acct, []string{"compromised"}
			switch kind.source {
			case "microsoftDefenderForEndpoint":
				if dev == nil {
					a.Evidence = []AlertEvidence{userEv}
					break
				}
				devEv := ev
				devEv.ODataType = ODataDeviceEvidence
				devEv.MdeDeviceID = g.hex(40)
				devEv.AzureAdDeviceID = dev.AzureADDeviceID
				devEv.DeviceDNSName = strings.ToLower(dev.DeviceName) + "." + g.name + ".local"
				devEv.OSPlatform, devEv.HealthStatus, devEv.RiskScore = "Windows11", "active", kind.severity
				a.Evidence = []AlertEvidence{devEv, userEv}
			case "microsoftDefenderForOffice365":
				mb := ev
				mb.ODataType, mb.UserAccount, mb.PrimaryAddress, mb.DisplayName = ODataMailboxEvidence, acct, u.Mail, u.DisplayName
				url := ev
				url.ODataType, url.URL = ODataURLEvidence, "http://login-"+g.alnum(6)+".phish.example/?id="+g.hex(8)
				a.Evidence = []AlertEvidence{mb, url}
			default:
				a.Evidence = []AlertEvidence{userEv}
			}
			out = append(out, a)
		}
	}
	// Newest first, as /security/alerts_v2 lists them.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].CreatedDateTime.After(out[j-1].CreatedDateTime); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func evidenceBase(created time.Time) AlertEvidence {
	return AlertEvidence{CreatedDateTime: created, Verdict: "suspicious", RemediationStatus: "none", Roles: []string{}, DetailedRoles: []string{}, Tags: []string{}}
}
