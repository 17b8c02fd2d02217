// Package cosmostest runs a local Cosmos DB REST server for tests: the
// pinned @vercel/cosmosdb-server under test-tools/cosmosdb, over HTTPS with a
// fresh self-signed certificate that only the returned client trusts. It is
// imported only by tests and imports nothing from the product.
package cosmostest
