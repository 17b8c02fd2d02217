// Package embedded is the default store.Store: one bbolt file on local disk,
// for standalone runs and development. It owns that file's layout, ETags, TTL
// expiry and continuation tokens, and passes the same contract suite
// (store/storetest) as the Cosmos store. It imports only package store and
// bbolt, never a domain package or an Azure SDK.
package embedded
