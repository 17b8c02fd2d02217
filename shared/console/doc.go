// Package console renders the web console people read at the app's root:
// server-rendered html/template pages over the same repositories and as-of
// queries as the JSON API (assess, records), with writes sent through the
// API's own handlers so both share one validation. It holds the pages, the
// view models and their formatting rules; it must not import the Graph SDK
// or the handler, and it renders no tenant value outside html/template or
// its CSV guard.
package console
