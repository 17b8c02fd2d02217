// Package cosmos is the Azure Cosmos DB (NoSQL API) store.Store, used in
// Azure. It owns the container layout, the item shape, the SQL it sends and
// the mapping of Cosmos status codes to store's sentinel errors; no status
// code leaves this package. It imports package store and the Azure SDK, never
// a domain package.
package cosmos
