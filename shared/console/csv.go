package console

import (
	"encoding/csv"
	"io"
	"strings"
)

// CSVCell guards a value against formula injection: a spreadsheet runs a
// cell starting with = + - @ (or a tab or carriage return before one) as a
// formula, so such a cell is prefixed with an apostrophe, which shows as
// text (OWASP's CSV injection advice).
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes a header and rows, every cell guarded.
func WriteCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		g := make([]string, len(r))
		for i, c := range r {
			g[i] = CSVCell(c)
		}
		if err := cw.Write(g); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
