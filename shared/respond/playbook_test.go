package respond

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"m365security/shared/incident"
	"m365security/shared/playbook"
)

func TestEveryActionTypeHasOneKind(t *testing.T) {
	for _, at := range incident.ActionTypes() {
		k, ok := KindOf(at)
		assert.True(t, ok, at)
		assert.NotEmpty(t, writeOperation(k.Write).Permissions, "%s names a documented write", at)
	}
	assert.Len(t, Kinds, len(incident.ActionTypes()))
	for _, tr := range playbook.Traits {
		_, ok := KindOf(tr.Type)
		assert.True(t, ok, "trait %s has a kind", tr.Type)
	}
	_, ok := KindOf("nope")
	assert.False(t, ok)
	for _, pb := range playbook.Playbooks {
		for _, st := range pb.Steps {
			_, ok := KindOf(st.Action)
			assert.True(t, ok, "playbook %s step %s", pb.Name, st.Action)
		}
	}
}
