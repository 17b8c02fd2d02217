package principal

import (
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func header(json string) string { return base64.StdEncoding.EncodeToString([]byte(json)) }

const signedIn = `{"auth_typ":"aad","claims":[
 {"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"11111111-2222-3333-4444-555555555555"},
 {"typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn","val":"ann@contoso.com"},
 {"typ":"name","val":"Ann"},
 {"typ":"roles","val":"Responder.Approve"}],
 "name_typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name","role_typ":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}`

func TestFromRequest(t *testing.T) {
	cases := []struct {
		name     string
		mode     string
		header   string
		wantOK   bool
		wantErr  bool
		wantName string
		approver bool
	}{
		{"appservice: the signed-in person is verified with their roles", ModeAppService, header(signedIn), true, false, "ann@contoso.com", true},
		{"none: a forged header is ignored", ModeNone, header(signedIn), false, false, "", false},
		{"appservice: no header is not signed in", ModeAppService, "", false, true, "", false},
		{"appservice: a header that is not base64 is not signed in", ModeAppService, "%%%", false, true, "", false},
		{"appservice: a header that is not JSON is not signed in", ModeAppService, header("nope"), false, true, "", false},
		{"appservice: a principal without an object id is not signed in", ModeAppService, header(`{"claims":[{"typ":"preferred_username","val":"a@b.c"}]}`), false, true, "", false},
		{"appservice: roles under role_typ count and preferred_username names", ModeAppService,
			header(`{"claims":[{"typ":"oid","val":"x"},{"typ":"preferred_username","val":"bob@contoso.com"},{"typ":"custom/role","val":"Responder.Approve"}],"role_typ":"custom/role"}`),
			true, false, "bob@contoso.com", true},
		{"appservice: a person without the role is not an approver", ModeAppService,
			header(`{"claims":[{"typ":"oid","val":"x"},{"typ":"name","val":"Carl"}]}`), true, false, "Carl", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tc.header != "" {
				r.Header.Set(Header, tc.header)
			}
			p, ok, err := FromRequest(r, tc.mode)
			assert.Equal(t, tc.wantOK, ok)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrNotSignedIn)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantName, p.Name)
			assert.Equal(t, tc.approver, p.HasRole(RoleApprove))
		})
	}
}

func TestHeaderFallbacksAndStated(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set(Header, header(`{"claims":[{"typ":"roles","val":"Responder.Approve"}]}`))
	r.Header.Set("X-MS-CLIENT-PRINCIPAL-NAME", "dee@contoso.com")
	r.Header.Set("X-MS-CLIENT-PRINCIPAL-ID", "oid-1")
	p, ok, err := FromRequest(r, ModeAppService)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "dee@contoso.com", p.Name)
	assert.Equal(t, "oid-1", p.ObjectID)

	s := Stated("  eve ")
	assert.Equal(t, "eve", s.Name)
	assert.False(t, s.Verified)
	assert.False(t, Principal{Name: "x", Roles: []string{RoleApprove}}.HasRole(RoleApprove), "an unverified principal holds no role")
}

func TestHeaderSizeIsBounded(t *testing.T) {
	valid := `{"claims":[{"typ":"oid","val":"x"},{"typ":"name","val":"`
	pad := func(total int) string {
		// Pad the name so the base64 header is exactly total bytes long.
		for n := 0; ; n++ {
			h := header(valid + strings.Repeat("a", n) + `"}]}`)
			if len(h) >= total {
				return h
			}
		}
	}
	at := pad(maxHeader - 3)
	require.LessOrEqual(t, len(at), maxHeader)
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set(Header, at)
	_, ok, err := FromRequest(r, ModeAppService)
	require.NoError(t, err, "a header within the bound is read")
	require.True(t, ok)
	over := at + strings.Repeat("A", maxHeader+1-len(at))
	r.Header.Set(Header, over)
	_, _, err = FromRequest(r, ModeAppService)
	require.ErrorIs(t, err, ErrNotSignedIn, "a header beyond the bound is refused unread")
}
