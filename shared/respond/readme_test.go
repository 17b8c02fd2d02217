package respond

import (
	"os"
	"strings"
	"testing"

	"m365security/shared/playbook"

	"github.com/stretchr/testify/require"

	"m365security/shared/settings"
)

// actionTable renders the README's action-types table from Kinds, the
// settings defaults and the write operations, so the README cannot drift
// from the code.
func actionTable() string {
	var b strings.Builder
	b.WriteString("| type | Graph write | destructive | co-managed | fully-managed | undo |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, k := range Kinds {
		op := writeOperation(k.Write)
		undo := "—"
		if tr, _ := playbook.TraitOf(k.Type); tr.UndoType != "" {
			undo = "`" + tr.UndoType + "`"
		}
		destructive := "no"
		if settings.IsDestructive(k.Type) {
			destructive = "yes"
		}
		b.WriteString("| `" + k.Type + "` | `" + op.Method + " " + op.Path + "` | " + destructive + " | " +
			settings.DefaultMode(settings.CoManaged, k.Type) + " | " + settings.DefaultMode(settings.FullyManaged, k.Type) + " | " + undo + " |\n")
	}
	return b.String()
}

func TestReadmeListsEveryActionType(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := string(raw)
	const begin, end = "<!-- action-types:begin -->\n", "<!-- action-types:end -->"
	i, j := strings.Index(s, begin), strings.Index(s, end)
	require.True(t, i >= 0 && j > i, "README.md has no action-types block")
	require.Equal(t, actionTable(), s[i+len(begin):j], "README.md's action-types table differs from the code; paste the expected table")
}
