// Package assess turns collections into stored posture and answers posture
// questions as of any moment: it runs a collector for a tenant and area,
// evaluates metrics and controls, stores the snapshot idempotently per
// period with its history point, and evaluates metrics, controls, history
// and collection health from the stored records. It talks to Graph only
// through the Collector function it is given and to storage only through
// the typed repositories of shared/records.
package assess
