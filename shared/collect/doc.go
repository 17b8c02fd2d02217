// Package collect reads a tenant's security posture from Microsoft Graph into
// the plain types of shared/posture. Every Graph source is declared as data
// (name, path, permission, licence, prerequisites, fetch function) and one
// runner executes them: independent sources concurrently, panics recovered
// and failures classified per source. SDK models never leave this package;
// it must not import store, checks or reports.
package collect
