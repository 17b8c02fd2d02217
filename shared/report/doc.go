// Package report assembles the monthly operational review and the
// quarterly executive review (issue 11) from the stored evidence — the
// as-of views of shared/assess, history points, incidents, exceptions,
// restore tests and the tenant's settings — into one Report model, and
// renders it as JSON, HTML (web with SVG charts, mail with inline PNG by
// content id), CSV (a zip of one file per table) and PDF. Every number
// names the snapshot or incident ids it came from. It imports no Graph SDK:
// delivery (shared/reportmail) sends what it renders.
package report
