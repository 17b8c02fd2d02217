package collect

// Catalogue lists every Graph source the collectors read, area by area in
// the order each collector declares them: the permissions to grant and the
// licences that decide what a tenant can report. It is plain data for
// documentation, consent checks and tests. DNS sources are not in it.
func Catalogue() []SourceInfo {
	var out []SourceInfo
	for _, a := range Areas() {
		for _, s := range a.Sources {
			if !s.DNS {
				out = append(out, s)
			}
		}
	}
	return out
}
