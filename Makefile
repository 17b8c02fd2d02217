# m365security — see README.md. Two commands matter on a fresh machine:
#   make run    standalone handler with the demo tenant on http://localhost:7071
#   make test   the whole test suite, installing its own test tools
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
COSMOS_TOOLS := test-tools/cosmosdb
PORT ?= 7071

.PHONY: run build package test test-tools fuzz bench lint clean

run: build
	@mkdir -p data
	DEMO=1 FUNCTIONS_CUSTOMHANDLER_PORT=$(PORT) ./bin/handler

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/handler ./handler

# package stages what the Functions host needs beside each other: host.json,
# one folder per function and the linux/amd64 binary named as host.json says.
package:
	rm -rf dist && mkdir -p dist/app
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/app/handler ./handler
	cp host.json dist/app/
	cp -r functions/* dist/app/
	cd dist/app && python3 -c 'import shutil; shutil.make_archive("../m365security", "zip", ".")'
	@echo "dist/m365security.zip ready for: az functionapp deployment source config-zip --src dist/m365security.zip"

# test-tools installs the pinned Cosmos DB server (npm ci is a no-op when the
# lockfile is already satisfied).
test-tools: $(COSMOS_TOOLS)/node_modules/.package-lock.json

$(COSMOS_TOOLS)/node_modules/.package-lock.json: $(COSMOS_TOOLS)/package.json $(COSMOS_TOOLS)/package-lock.json
	cd $(COSMOS_TOOLS) && npm ci --no-audit --no-fund --loglevel=error

test: test-tools lint
	$(GO) test -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory fuzz

# fuzz runs each fuzz target for FUZZTIME from its committed seed corpus
# (testdata/fuzz/<target>): the HTTP edge's from one instrumented test
# binary (one link, not one per target), then the invocation envelope's.
# A failing input is written beside the seeds; commit it with the fix.
FUZZTIME ?= 4s
FUZZ_HANDLER := FuzzNotifications FuzzLifecycleNotifications FuzzExceptionsBody FuzzTargetsBody FuzzQueryParameters
fuzz:
	@mkdir -p bin
	$(GO) test -c -fuzz=. -o bin/handler.fuzz ./handler
	cd handler && for t in $(FUZZ_HANDLER); do \
	  echo "fuzz $$t for $(FUZZTIME)"; \
	  ../bin/handler.fuzz -test.run='^$$' -test.fuzz="^$$t$$" -test.fuzztime=$(FUZZTIME) -test.parallel=2 \
	    -test.fuzzcachedir="$$($(GO) env GOCACHE)/fuzz/m365security/handler" || exit 1; \
	done
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRequest$$' -fuzztime $(FUZZTIME) -parallel 2 ./handler/invoke

bench: test-tools build
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './test-tools/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin dist
