#!/usr/bin/env node
// serve.js starts the pinned @vercel/cosmosdb-server over HTTPS with a
// certificate chosen by the caller, for the Go store contract tests
// (shared/store/cosmos/cosmostest). The package's bundled cert.pem is expired
// and has no subjectAltName, and its --no-ssl mode still advertises https://
// locations that the azcosmos SDK follows, so the tests bring their own
// certificate instead.
//
// Usage: node serve.js --host 127.0.0.1 --port 8081 --cert cert.pem --key key.pem
//
// Once listening it prints one line to stdout:
//   cosmosdb-server ready https://<host>:<port>/
// The advertised account endpoint is derived from the listen address, so
// clients must connect to exactly that host (127.0.0.1 and localhost differ).
"use strict";

const fs = require("fs");
const path = require("path");

function parseArgs(argv) {
  const args = { host: "127.0.0.1", port: 0 };
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i];
    const value = argv[i + 1];
    switch (key) {
      case "--host":
        args.host = value;
        i += 1;
        break;
      case "--port":
        args.port = parseInt(value, 10);
        i += 1;
        break;
      case "--cert":
        args.cert = value;
        i += 1;
        break;
      case "--key":
        args.key = value;
        i += 1;
        break;
      default:
        fail(`unknown argument ${key}`);
    }
  }
  if (!args.cert || !args.key) fail("--cert and --key are required");
  if (!Number.isInteger(args.port) || args.port < 0) fail("--port must be a number");
  return args;
}

function fail(message) {
  process.stderr.write(`serve.js: ${message}\n`);
  process.exit(2);
}

const pkg = "@vercel/cosmosdb-server";
const lib = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "lib");

// cosmosdb-server 1.0.1 answers a point read of a missing document with 500:
// its read-document handler dereferences the missing document before its own
// 404 check. Real Cosmos DB answers 404 NotFound, so wrap the handler before
// routes.js captures it. This changes no other behaviour.
(function patchReadDocument() {
  const handler = require(path.join(lib, "handler", "read-document.js"));
  const { parsePartitionKey, default: partitionFromHeader } = require(path.join(
    lib,
    "utils",
    "get-partition-from-header.js"
  ));
  const original = handler.default;
  handler.default = (account, req, res, params) => {
    const collection = account.database(params.dbId).collection(params.collId);
    if (collection.read()) {
      let partitionKey;
      try {
        partitionKey = parsePartitionKey(partitionFromHeader(req), params.docId);
      } catch (err) {
        return original(account, req, res, params);
      }
      if (!collection.document(params.docId, partitionKey).read()) {
        res.statusCode = 404;
        return {
          code: "NotFound",
          message: "Entity with the specified id does not exist in the system."
        };
      }
    }
    return original(account, req, res, params);
  };
})();

const { createHttpsServer } = require(pkg);

const args = parseArgs(process.argv.slice(2));
const server = createHttpsServer({
  cert: fs.readFileSync(args.cert),
  key: fs.readFileSync(args.key),
  keepAlive: true
});
server.on("error", err => fail(err.message));
server.listen(args.port, args.host, () => {
  const { port } = server.address();
  const host = args.host.includes(":") ? `[${args.host}]` : args.host;
  process.stdout.write(`cosmosdb-server ready https://${host}:${port}/\n`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(0));
}
