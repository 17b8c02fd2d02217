// Package storetest is the contract suite every store.Store implementation
// runs from its own tests, so the embedded and Cosmos stores behave alike:
// write modes and ETags, the error sentinels, query ranges, ordering, attrs
// filters, paging, validation, concurrent optimistic writes and TTL. It
// imports only package store and test libraries.
package storetest
