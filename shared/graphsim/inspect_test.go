package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInspectionRoutesShowWritesAndSentMail(t *testing.T) {
	tn := newTestTenant(t)
	s := newTestServer(t, tn, Options{})
	get := func(path string) (int, map[string]json.RawMessage) {
		resp, err := http.Get(s.URL() + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var out map[string]json.RawMessage
		if resp.StatusCode == 200 {
			require.NoError(t, json.Unmarshal(b, &out), string(b))
		}
		return resp.StatusCode, out
	}
	code, out := get(SentMailPath)
	require.Equal(t, 200, code)
	require.JSONEq(t, `[]`, string(out["sentMail"]), "an empty log is an empty list")

	user := tn.Users[0].ID
	mustDo(t, s, "POST", "/users/"+user+"/revokeSignInSessions", "", nil)
	mustDo(t, s, "POST", "/users/"+user+"/sendMail",
		`{"message":{"subject":"hello","body":{"contentType":"HTML","content":"<p>x</p>"},"toRecipients":[{"emailAddress":{"address":"a@b.example"}}]}}`, nil)
	code, out = get(WritesPath)
	require.Equal(t, 200, code)
	require.Contains(t, string(out["writes"]), "/revokeSignInSessions")
	code, out = get(SentMailPath)
	require.Equal(t, 200, code)
	var mail []SentMail
	require.NoError(t, json.Unmarshal(out["sentMail"], &mail))
	require.Len(t, mail, 1)
	require.Equal(t, "hello", mail[0].Subject)

	resp, err := http.Post(s.URL()+SentMailPath, "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
