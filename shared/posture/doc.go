// Package posture holds the domain model of a tenant's security posture: what
// the collectors read from Graph (as plain Go types, never SDK models), the
// health of each collection, and the snapshots stored per run. It must not
// import the Graph SDK or any store implementation.
package posture
