// Package records owns the layout of every stored document: one repository
// per kind (snapshots and history points, incidents, exceptions, restore
// tests, settings, subscriptions, sent reports, scheduler and poller state,
// parked messages) with typed methods and queries by tenant and time range.
// The API, the assessment service, the reports and the console all read
// through it, so attribute keys, ids and chunking are decided here once.
// It imports store and the domain packages; it never talks to Graph.
package records
