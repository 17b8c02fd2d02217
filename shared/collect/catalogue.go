package collect

// Catalogue lists every Graph source the collectors read, in the order each
// collector declares them: the permissions to grant and the licences that
// decide what a tenant can report. It is plain data for documentation,
// consent checks and tests.
func Catalogue() []SourceInfo {
	var out []SourceInfo
	out = appendInfo(out, identitySources())
	out = appendInfo(out, deviceSources())
	out = appendInfo(out, secureScoreSources())
	out = appendInfo(out, backupSources())
	return out
}

func appendInfo[S any](out []SourceInfo, srcs []source[S]) []SourceInfo {
	for _, s := range srcs {
		out = append(out, s.SourceInfo)
	}
	return out
}
