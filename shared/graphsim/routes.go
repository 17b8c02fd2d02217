package graphsim

import (
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
)

type routeKind int

const (
	kindList routeKind = iota
	kindItem
)

// pageRule is an endpoint's paging behaviour: default page size, maximum
// $top, and whether a larger $top is rejected (400) or clamped.
type pageRule struct {
	def, max int
	reject   bool
}

var (
	// Directory objects: default 100, maximum 999, larger → 400
	// Request_UnsupportedQuery (user-list docs; error text as observed).
	pageDirectory = pageRule{def: 100, max: 999, reject: true}
	// Intune: 1000 per page by default (Microsoft's Intune samples); the
	// maximum is undocumented, so larger values are clamped.
	pageIntune = pageRule{def: 1000, max: 1000}
	// Identity Protection: $top above 500 is rejected (measured on
	// riskDetections, same service); the default is undocumented.
	pageIdentityProtection = pageRule{def: 100, max: 500, reject: true}
	// Security API: $top is capped at 1000 and larger values are clamped
	// (security-error-codes "Constraints"); the default is undocumented.
	pageSecurity = pageRule{def: 100, max: 1000}
	// Everything else: undocumented; page at 100 so collectors must follow
	// nextLink, and clamp large $top rather than reject a legal request.
	pageOther = pageRule{def: 100, max: 999}
)

// seq is a random-access view of a collection.
type seq struct {
	n  int
	at func(i int) any // pointer to the element
	id func(i int) string
}

type route struct {
	tmpl      string // path template after /v1.0, e.g. /groups/{id}/members
	segs      []string
	kind      routeKind
	ctx       string // @odata.context after $metadata#; {id} is replaced
	typeName  string
	types     []reflect.Type // element types ($select/$filter validation)
	page      pageRule
	directory bool // directory error codes
	mixed     bool // directoryObject collection: items carry @odata.type
	expand    string
	licence   func(l Licensing, sel []string, filter string) *Fault
	list      func(ix *index, p []string) (seq, *Fault)
	item      func(ix *index, p []string) (any, *Fault)
	itemSize  *atomic.Int64 // bytes per item on the last page, a buffer hint
}

func sliceSeq[T any](xs []T) seq {
	return seq{
		n:  len(xs),
		at: func(i int) any { return &xs[i] },
		id: func(i int) string { return idOf(&xs[i]) },
	}
}

func idOf(p any) string {
	return reflect.ValueOf(p).Elem().FieldByName("ID").String()
}

func typeOf[T any]() []reflect.Type { return []reflect.Type{reflect.TypeFor[T]()} }

// collection adds the list and item routes of a top-level entity set.
func collection[T any](tmpl, ctx, typeName string, page pageRule, get func(t *Tenant) []T) []route {
	list := route{
		tmpl: tmpl, kind: kindList, ctx: ctx, typeName: typeName, types: typeOf[T](), page: page,
		list: func(ix *index, _ []string) (seq, *Fault) { return sliceSeq(get(ix.t)), nil },
	}
	item := list
	item.tmpl = tmpl + "/{id}"
	item.kind = kindItem
	item.list = nil
	item.item = func(ix *index, p []string) (any, *Fault) {
		xs := get(ix.t)
		i := ix.find(tmpl, sliceSeq(xs), p[0])
		if i < 0 {
			return nil, notFound("ResourceNotFound", "Resource '"+p[0]+"' does not exist.")
		}
		return &xs[i], nil
	}
	return []route{list, item}
}

func singleton[T any](tmpl, typeName string, get func(t *Tenant) *T) route {
	return route{
		tmpl: tmpl, kind: kindItem, ctx: strings.TrimPrefix(tmpl, "/"), typeName: typeName, types: typeOf[T](),
		item: func(ix *index, _ []string) (any, *Fault) { return get(ix.t), nil },
	}
}

var routes = buildRoutes()

func buildRoutes() []route {
	var rs []route
	add := func(r ...route) { rs = append(rs, r...) }

	add(collection("/organization", "organization", "microsoft.graph.organization", pageOther,
		func(t *Tenant) []Organization { return []Organization{t.Organization} })...)

	users := collection("/users", "users", "microsoft.graph.user", pageDirectory, func(t *Tenant) []User { return t.Users })
	users[1].item = func(ix *index, p []string) (any, *Fault) {
		i := ix.user(p[0])
		if i < 0 {
			return nil, directoryNotFound(p[0])
		}
		return &ix.t.Users[i], nil
	}
	for i := range users {
		users[i].directory = true
		users[i].licence = func(l Licensing, sel []string, filter string) *Fault {
			if l.WithoutP1 && (contains(sel, "signInActivity") || strings.Contains(filter, "signInActivity")) {
				f := NotLicensedPremium()
				return &f
			}
			return nil
		}
	}
	add(users...)

	groups := collection("/groups", "groups", "microsoft.graph.group", pageDirectory, func(t *Tenant) []Group { return t.Groups })
	groups[1].item = func(ix *index, p []string) (any, *Fault) {
		i := ix.group(p[0])
		if i < 0 {
			return nil, directoryNotFound(p[0])
		}
		return &ix.t.Groups[i], nil
	}
	groups[0].directory, groups[1].directory = true, true
	add(groups...)
	for _, nav := range []string{"members", "transitiveMembers"} {
		transitive := nav == "transitiveMembers"
		add(route{
			tmpl: "/groups/{id}/" + nav, kind: kindList, ctx: "directoryObjects", typeName: "microsoft.graph.directoryObject",
			types: []reflect.Type{reflect.TypeFor[User](), reflect.TypeFor[Group]()}, page: pageDirectory, directory: true, mixed: true,
			list: func(ix *index, p []string) (seq, *Fault) { return ix.memberSeq(p[0], transitive, 0) },
		})
		for _, cast := range []string{"microsoft.graph.user", "graph.user", "microsoft.graph.group", "graph.group"} {
			kind, ctx, typ := 1, "users", reflect.TypeFor[User]()
			if strings.HasSuffix(cast, "group") {
				kind, ctx, typ = 2, "groups", reflect.TypeFor[Group]()
			}
			add(route{
				tmpl: "/groups/{id}/" + nav + "/" + cast, kind: kindList, ctx: ctx, typeName: "microsoft.graph." + ctx[:len(ctx)-1],
				types: []reflect.Type{typ}, page: pageDirectory, directory: true,
				list: func(ix *index, p []string) (seq, *Fault) { return ix.memberSeq(p[0], transitive, kind) },
			})
		}
	}

	reg := collection("/reports/authenticationMethods/userRegistrationDetails", "reports/authenticationMethods/userRegistrationDetails",
		"microsoft.graph.userRegistrationDetails", pageOther, func(t *Tenant) []UserRegistrationDetails { return t.UserRegistrationDetails })
	for i := range reg {
		reg[i].licence = func(l Licensing, _ []string, _ string) *Fault {
			if l.WithoutP1 {
				f := NotLicensedPremium()
				return &f
			}
			return nil
		}
	}
	add(reg...)

	add(singleton("/policies/identitySecurityDefaultsEnforcementPolicy", "microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
		func(t *Tenant) *IdentitySecurityDefaultsEnforcementPolicy { return &t.SecurityDefaults }))
	add(singleton("/policies/authorizationPolicy", "microsoft.graph.authorizationPolicy",
		func(t *Tenant) *AuthorizationPolicy { return &t.AuthorizationPolicy }))

	add(collection("/identity/conditionalAccess/policies", "identity/conditionalAccess/policies", "microsoft.graph.conditionalAccessPolicy",
		pageOther, func(t *Tenant) []ConditionalAccessPolicy { return t.ConditionalAccessPolicies })...)
	add(collection("/identity/conditionalAccess/namedLocations", "identity/conditionalAccess/namedLocations", "microsoft.graph.namedLocation",
		pageOther, func(t *Tenant) []NamedLocation { return t.NamedLocations })...)

	add(collection("/roleManagement/directory/roleDefinitions", "roleManagement/directory/roleDefinitions", "microsoft.graph.unifiedRoleDefinition",
		pageOther, func(t *Tenant) []RoleDefinition { return t.RoleDefinitions })...)
	ra := collection("/roleManagement/directory/roleAssignments", "roleManagement/directory/roleAssignments", "microsoft.graph.unifiedRoleAssignment",
		pageOther, func(t *Tenant) []RoleAssignment { return t.RoleAssignments })
	ra[0].expand, ra[1].expand = "principal", "principal"
	add(ra...)
	re := collection("/roleManagement/directory/roleEligibilitySchedules", "roleManagement/directory/roleEligibilitySchedules",
		"microsoft.graph.unifiedRoleEligibilitySchedule", pageOther, func(t *Tenant) []RoleEligibilitySchedule { return t.RoleEligibilitySchedules })
	re[0].expand, re[1].expand = "principal", "principal"
	add(re...)

	add(collection("/domains", "domains", "microsoft.graph.domain", pageOther, func(t *Tenant) []Domain { return t.Domains })...)

	risky := collection("/identityProtection/riskyUsers", "identityProtection/riskyUsers", "microsoft.graph.riskyUser",
		pageIdentityProtection, func(t *Tenant) []RiskyUser { return t.RiskyUsers })
	for i := range risky {
		risky[i].licence = func(l Licensing, _ []string, _ string) *Fault {
			if l.WithoutP1 || l.WithoutP2 {
				f := NotLicensedP2()
				return &f
			}
			return nil
		}
	}
	add(risky...)

	md := collection("/deviceManagement/managedDevices", "deviceManagement/managedDevices", "microsoft.graph.managedDevice",
		pageIntune, func(t *Tenant) []ManagedDevice { return t.ManagedDevices })
	md[0].expand, md[1].expand = "windowsProtectionState", "windowsProtectionState"
	add(md...)
	add(route{
		tmpl: "/deviceManagement/managedDevices/{id}/windowsProtectionState", kind: kindItem,
		ctx: "deviceManagement/managedDevices('{id}')/windowsProtectionState", typeName: "microsoft.graph.windowsProtectionState",
		types: typeOf[WindowsProtectionState](),
		item: func(ix *index, p []string) (any, *Fault) {
			i := ix.find("/deviceManagement/managedDevices", sliceSeq(ix.t.ManagedDevices), p[0])
			if i < 0 {
				return nil, notFound("ResourceNotFound", "Resource '"+p[0]+"' does not exist.")
			}
			if ps := ix.t.ManagedDevices[i].WindowsProtectionState; ps != nil {
				return ps, nil
			}
			return nil, notFound("ResourceNotFound", "No windowsProtectionState is reported for managed device '"+p[0]+"'.")
		},
	})

	add(collection("/security/secureScores", "security/secureScores", "microsoft.graph.secureScore",
		pageSecurity, func(t *Tenant) []SecureScore { return t.SecureScores })...)
	add(collection("/security/secureScoreControlProfiles", "security/secureScoreControlProfiles", "microsoft.graph.secureScoreControlProfile",
		pageSecurity, func(t *Tenant) []SecureScoreControlProfile { return t.SecureScoreControlProfiles })...)
	alerts := collection(alertsPath, "security/alerts_v2", "microsoft.graph.security.alert",
		pageSecurity, func(t *Tenant) []Alert { return t.Alerts })
	// Alerts change at run time (RaiseAlert, UpdateAlert, PATCH).
	alerts[0].list = func(ix *index, _ []string) (seq, *Fault) { return sliceSeq(ix.alertList()), nil }
	alerts[1].item = func(ix *index, p []string) (any, *Fault) {
		xs := ix.alertList()
		i := ix.find(alertsPath, sliceSeq(xs), p[0])
		if i < 0 {
			return nil, notFound("ResourceNotFound", "Resource '"+p[0]+"' does not exist.")
		}
		return &xs[i], nil
	}
	add(alerts...)
	detections := collection("/identityProtection/riskDetections", "identityProtection/riskDetections", "microsoft.graph.riskDetection",
		pageIdentityProtection, func(t *Tenant) []RiskDetection { return t.RiskDetections })
	for i := range detections {
		detections[i].licence = risky[0].licence
	}
	add(detections...)

	add(collection("/policies/authenticationStrengthPolicies", "policies/authenticationStrengthPolicies", "microsoft.graph.authenticationStrengthPolicy",
		pageOther, func(t *Tenant) []AuthenticationStrengthPolicy { return t.AuthenticationStrengthPolicies })...)
	sps := collection("/servicePrincipals", "servicePrincipals", "microsoft.graph.servicePrincipal", pageDirectory,
		func(t *Tenant) []ServicePrincipal { return t.ServicePrincipals })
	sps[0].directory, sps[1].directory = true, true
	add(sps...)
	add(route{
		tmpl: "/servicePrincipals/{id}/delegatedPermissionClassifications", kind: kindList,
		ctx: "servicePrincipals('{id}')/delegatedPermissionClassifications", typeName: "microsoft.graph.delegatedPermissionClassification",
		types: typeOf[DelegatedPermissionClassification](), page: pageOther, directory: true,
		list: func(ix *index, p []string) (seq, *Fault) {
			i := ix.find("/servicePrincipals", sliceSeq(ix.t.ServicePrincipals), p[0])
			if i < 0 {
				return seq{}, directoryNotFound(p[0])
			}
			return sliceSeq(ix.t.ServicePrincipals[i].DelegatedPermissionClassifications), nil
		},
	})
	pim := collection("/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances",
		"identityGovernance/privilegedAccess/group/eligibilityScheduleInstances", "microsoft.graph.privilegedAccessGroupEligibilityScheduleInstance",
		pageOther, func(t *Tenant) []PrivilegedAccessGroupEligibilityScheduleInstance {
			return t.GroupEligibilityScheduleInstances
		})
	pim[0].expand, pim[1].expand = "principal", "principal"
	// PIM needs Entra ID P2, and Graph lists group eligibilities only
	// scoped by group or principal: an unfiltered list is a 400.
	pim[0].licence = func(l Licensing, _ []string, filter string) *Fault {
		if l.WithoutP1 || l.WithoutP2 {
			f := NotLicensedP2()
			return &f
		}
		if !strings.Contains(filter, "groupId") && !strings.Contains(filter, "principalId") {
			return badRequest("BadRequest", "Filter on groupId or principalId is required.")
		}
		return nil
	}
	add(pim...)
	add(collection("/subscribedSkus", "subscribedSkus", "microsoft.graph.subscribedSku", pageOther,
		func(t *Tenant) []SubscribedSku { return t.SubscribedSkus })...)

	add(singleton("/solutions/backupRestore", "microsoft.graph.backupRestoreRoot", func(t *Tenant) *BackupRestoreRoot { return &t.BackupRestore }))
	add(collection("/solutions/backupRestore/protectionPolicies", "solutions/backupRestore/protectionPolicies", "microsoft.graph.protectionPolicyBase",
		pageOther, func(t *Tenant) []ProtectionPolicy { return t.ProtectionPolicies })...)

	for i := range rs {
		rs[i].segs = strings.Split(strings.TrimPrefix(rs[i].tmpl, "/"), "/")
		rs[i].itemSize = new(atomic.Int64)
	}
	return rs
}

func directoryNotFound(id string) *Fault {
	return notFound("Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

// matchRoute finds the route for rel (the path after /v1.0). When none
// matches it returns the first segment no route knows, for Graph's
// "Resource not found for the segment" error.
func matchRoute(rel string) (*route, []string, string) {
	trimmed := strings.Trim(rel, "/")
	if trimmed == "" {
		return nil, nil, "v1.0"
	}
	segs := strings.Split(trimmed, "/")
	for ri := range routes {
		rt := &routes[ri]
		if len(rt.segs) != len(segs) {
			continue
		}
		var params []string
		ok := true
		for i, s := range rt.segs {
			if s == "{id}" {
				if segs[i] == "" {
					ok = false
					break
				}
				params = append(params, segs[i])
				continue
			}
			if !strings.EqualFold(s, segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return rt, params, ""
		}
	}
	for k := 1; k <= len(segs); k++ {
		known := false
		for ri := range routes {
			rt := &routes[ri]
			if len(rt.segs) < k {
				continue
			}
			match := true
			for i := range k {
				if rt.segs[i] != "{id}" && !strings.EqualFold(rt.segs[i], segs[i]) {
					match = false
					break
				}
			}
			if match {
				known = true
				break
			}
		}
		if !known {
			return nil, nil, segs[k-1]
		}
	}
	return nil, nil, segs[len(segs)-1]
}

// index holds the lazily built lookups a Server needs over its Tenant.
type index struct {
	t *Tenant

	mu         sync.Mutex
	byID       map[string]map[string]int
	users      map[string]int // id and lower-case UPN
	usersOnce  sync.Once
	groups     map[string]int
	groupsOnce sync.Once
	directs    map[int][]int32
	transitive map[int][]int32
	live       live
}

func newIndex(t *Tenant) *index {
	return &index{t: t, byID: map[string]map[string]int{}, directs: map[int][]int32{}, transitive: map[int][]int32{}}
}

func (ix *index) find(name string, s seq, id string) int {
	ix.mu.Lock()
	m, ok := ix.byID[name]
	if !ok {
		m = make(map[string]int, s.n)
		for i := range s.n {
			m[s.id(i)] = i
		}
		ix.byID[name] = m
	}
	ix.mu.Unlock()
	if i, ok := m[id]; ok {
		return i
	}
	return -1
}

func (ix *index) user(key string) int {
	ix.usersOnce.Do(func() {
		ix.users = make(map[string]int, 2*len(ix.t.Users))
		for i := range ix.t.Users {
			ix.users[strings.ToLower(ix.t.Users[i].UserPrincipalName)] = i
		}
		// Ids win over UPNs should a UPN ever look like another user's id.
		for i := range ix.t.Users {
			ix.users[ix.t.Users[i].ID] = i
		}
	})
	if i, ok := ix.users[key]; ok {
		return i
	}
	if i, ok := ix.users[strings.ToLower(key)]; ok {
		return i
	}
	return -1
}

func (ix *index) group(id string) int {
	ix.groupsOnce.Do(func() {
		ix.groups = make(map[string]int, len(ix.t.Groups))
		for i := range ix.t.Groups {
			ix.groups[ix.t.Groups[i].ID] = i
		}
	})
	if i, ok := ix.groups[id]; ok {
		return i
	}
	return -1
}

// principal returns the *User or *Group with id, or nil.
func (ix *index) principal(id string) any {
	if i := ix.user(id); i >= 0 && ix.t.Users[i].ID == id {
		return &ix.t.Users[i]
	}
	if i := ix.group(id); i >= 0 {
		return &ix.t.Groups[i]
	}
	return nil
}

// Member references: r >= 0 is a user index, r < 0 the group index -r-1.
func (ix *index) direct(g int) []int32 {
	ix.mu.Lock()
	if r, ok := ix.directs[g]; ok {
		ix.mu.Unlock()
		return r
	}
	ix.mu.Unlock()
	out := []int32{}
	for _, id := range ix.t.Groups[g].Members {
		if u := ix.user(id); u >= 0 && ix.t.Users[u].ID == id {
			out = append(out, int32(u))
		} else if gi := ix.group(id); gi >= 0 {
			out = append(out, int32(-gi-1))
		}
	}
	ix.mu.Lock()
	ix.directs[g] = out
	ix.mu.Unlock()
	return out
}

// transitiveRefs is the breadth-first closure of g's members: users and
// nested groups, each once, cycles cut. Cached per group.
func (ix *index) transitiveRefs(g int) []int32 {
	ix.mu.Lock()
	if r, ok := ix.transitive[g]; ok {
		ix.mu.Unlock()
		return r
	}
	ix.mu.Unlock()
	seenGroup := make([]bool, len(ix.t.Groups))
	seenGroup[g] = true
	seenUser := make([]bool, len(ix.t.Users))
	var out []int32
	queue := []int{g}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, r := range ix.direct(cur) {
			if r >= 0 {
				if !seenUser[r] {
					seenUser[r] = true
					out = append(out, r)
				}
				continue
			}
			gi := int(-r - 1)
			if seenGroup[gi] {
				continue
			}
			seenGroup[gi] = true
			out = append(out, r)
			queue = append(queue, gi)
		}
	}
	ix.mu.Lock()
	ix.transitive[g] = out
	ix.mu.Unlock()
	return out
}

// memberSeq lists a group's direct or transitive members; kind 1 keeps
// users only, 2 groups only.
func (ix *index) memberSeq(id string, transitive bool, kind int) (seq, *Fault) {
	g := ix.group(id)
	if g < 0 {
		return seq{}, directoryNotFound(id)
	}
	var refs []int32
	if transitive {
		refs = ix.transitiveRefs(g)
	} else {
		refs = ix.direct(g)
	}
	if kind != 0 {
		kept := make([]int32, 0, len(refs))
		for _, r := range refs {
			if (r >= 0) == (kind == 1) {
				kept = append(kept, r)
			}
		}
		refs = kept
	}
	at := func(i int) any {
		if r := refs[i]; r >= 0 {
			return &ix.t.Users[r]
		}
		return &ix.t.Groups[-refs[i]-1]
	}
	return seq{n: len(refs), at: at, id: func(i int) string { return idOf(at(i)) }}, nil
}

// MinimumRequests is the fewest GETs that can read the collection at path
// (e.g. "/users" or "/groups/<id>/transitiveMembers", with or without
// /v1.0) unfiltered with $top=pageSize, given how the simulator pages it:
// pageSize <= 0 means the endpoint's default page size and a value above its
// maximum counts as the maximum. A single object or an empty collection is
// 1; an unknown path or id is -1. Benchmarks compare Server.Stats against it.
func (t *Tenant) MinimumRequests(path string, pageSize int) int {
	rt, params, _ := matchRoute(strings.TrimPrefix(path, "/v1.0"))
	if rt == nil {
		return -1
	}
	ix := newIndex(t)
	if rt.kind == kindItem {
		if _, f := rt.item(ix, params); f != nil {
			return -1
		}
		return 1
	}
	col, f := rt.list(ix, params)
	if f != nil {
		return -1
	}
	page := pageSize
	if page <= 0 {
		page = rt.page.def
	}
	page = min(page, rt.page.max)
	if col.n == 0 {
		return 1
	}
	return (col.n + page - 1) / page
}
