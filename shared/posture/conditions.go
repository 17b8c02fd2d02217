package posture

// Unconditioned reports whether no location, platform or device condition
// narrows when the policy applies. Graph spells "every location" and "every
// platform" as an include of All with nothing excluded; that applies to every
// sign-in exactly as leaving the condition out does.
func (p CAPolicy) Unconditioned() bool {
	return !narrows(p.IncludeLocations, p.ExcludeLocations) &&
		!narrows(p.IncludePlatforms, p.ExcludePlatforms) && !p.HasDeviceFilter
}

// narrows: any exclusion narrows; an include narrows unless it is "all"
// (Graph writes "All" for locations and "all" for platforms).
func narrows(include, exclude []string) bool {
	if len(exclude) > 0 {
		return true
	}
	return len(include) > 0 && !ContainsFold(include, "all")
}
