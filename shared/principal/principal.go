// Package principal says who is making a request: the person App Service
// Authentication signed in (AUTH=appservice), or, with no sign-in in front of
// the app (AUTH=none, standalone on loopback), an unverified name the caller
// states. Approvals, rejections, undo and console actions record it.
package principal

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Modes (the AUTH setting).
const (
	ModeNone       = "none"
	ModeAppService = "appservice"
)

// Header is the platform's client-principal header. App Service strips any
// copy a client sends when authentication is on; with authentication off a
// client can forge it, which is why ModeNone never reads it.
const Header = "X-MS-CLIENT-PRINCIPAL"

// RoleApprove is the app role a person needs to approve, reject or undo.
const RoleApprove = "Responder.Approve"

// maxHeader bounds the header as sent (base64); real ones are a few KB.
const maxHeader = 16 << 10

// Claim types App Service uses for Entra ID.
const (
	claimOID      = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimOIDShort = "oid"
	claimUPN      = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	claimPrefName = "preferred_username"
	claimName     = "name"
	claimRoles    = "roles"
	claimRoleLong = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
)

// Principal is who acts.
type Principal struct {
	// Name is the UPN (verified) or the stated name (unverified).
	Name string `json:"name"`
	// ObjectID is the Entra object id; empty when unverified.
	ObjectID string   `json:"objectId,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	// Verified is true when the platform signed the person in.
	Verified bool `json:"verified"`
}

// HasRole reports whether the verified principal holds an app role.
func (p Principal) HasRole(role string) bool {
	if !p.Verified {
		return false
	}
	for _, r := range p.Roles {
		if strings.EqualFold(r, role) {
			return true
		}
	}
	return false
}

// ErrNotSignedIn is returned in ModeAppService when the header is absent or
// unreadable: the request did not come through the platform's sign-in.
var ErrNotSignedIn = errors.New("not signed in: App Service Authentication passed no client principal")

// FromRequest returns the verified principal in ModeAppService. In ModeNone
// it returns ok=false and the caller falls back to a stated name (see
// Stated); the header is ignored because nothing strips a forged one.
func FromRequest(r *http.Request, mode string) (Principal, bool, error) {
	if mode != ModeAppService {
		return Principal{}, false, nil
	}
	raw := r.Header.Get(Header)
	if raw == "" || len(raw) > maxHeader {
		return Principal{}, false, ErrNotSignedIn
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return Principal{}, false, ErrNotSignedIn
	}
	var doc struct {
		Claims []struct {
			Typ string `json:"typ"`
			Val string `json:"val"`
		} `json:"claims"`
		RoleTyp string `json:"role_typ"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Principal{}, false, ErrNotSignedIn
	}
	p := Principal{Verified: true}
	var upn, pref, name string
	for _, c := range doc.Claims {
		switch {
		case c.Typ == claimOID || c.Typ == claimOIDShort:
			p.ObjectID = c.Val
		case c.Typ == claimUPN:
			upn = c.Val
		case c.Typ == claimPrefName:
			pref = c.Val
		case c.Typ == claimName:
			name = c.Val
		case c.Typ == claimRoles || c.Typ == claimRoleLong || (doc.RoleTyp != "" && c.Typ == doc.RoleTyp):
			p.Roles = append(p.Roles, c.Val)
		}
	}
	p.Name = firstNonEmpty(upn, pref, r.Header.Get("X-MS-CLIENT-PRINCIPAL-NAME"), name)
	if p.ObjectID == "" {
		p.ObjectID = r.Header.Get("X-MS-CLIENT-PRINCIPAL-ID")
	}
	if p.Name == "" || p.ObjectID == "" {
		return Principal{}, false, ErrNotSignedIn
	}
	return p, true, nil
}

// Stated is an unverified principal from a name the caller gave.
func Stated(name string) Principal { return Principal{Name: strings.TrimSpace(name)} }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
