// Package assess turns collections into stored posture and answers posture
// questions: it runs a collector for a tenant and area, evaluates metrics and
// controls, stores the snapshot idempotently per period, and reads back
// metrics, controls, history, exceptions, restore tests and targets. It talks
// to Graph only through the Collector function it is given and to storage
// only through store.Store.
package assess
