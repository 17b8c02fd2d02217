# m365security — see README.md. Two commands matter on a fresh machine:
#   make run    standalone handler with the demo tenant on http://localhost:7071
#   make test   the whole test suite, installing its own test tools
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# build and package compile with the same flags (static, -trimpath), so they
# share Go's build cache: after the first build, make package only links
# (cross-compiling from another OS/arch compiles once more for linux/amd64).
BUILDFLAGS := -trimpath -ldflags "$(LDFLAGS)"
PKG_GOOS ?= linux
PKG_GOARCH ?= amd64
COSMOS_TOOLS := test-tools/cosmosdb
BICEP_GRAMMAR := test-tools/bicep-grammar
PORT ?= 7071

.PHONY: run build package test test-tools browser fuzz bench bench-render bench-all lint clean

run: build
	@mkdir -p data
	DEMO=1 FUNCTIONS_CUSTOMHANDLER_PORT=$(PORT) ./bin/handler

build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o bin/handler ./handler

# package stages what the Functions host needs beside each other in dist/app:
# host.json, one folder per function and the linux/amd64 binary named as
# host.json says; zips it to dist/m365security.zip; then copies
# local.settings.json, if present, into dist/app (never into the zip) so that
# `cd dist/app && func start` works. PKG_GOOS/PKG_GOARCH stage for another
# platform (e.g. to run func start on a Mac; not for deployment).
package:
	@mkdir -p dist
	CGO_ENABLED=0 GOOS=$(PKG_GOOS) GOARCH=$(PKG_GOARCH) $(GO) build $(BUILDFLAGS) -o dist/handler-$(PKG_GOOS)-$(PKG_GOARCH) ./handler
	$(GO) run ./tools/stage -binary dist/handler-$(PKG_GOOS)-$(PKG_GOARCH) -out dist

# test-tools installs the pinned Cosmos DB server and the pinned tree-sitter
# Bicep grammar infra/infra_test.go parses the Bicep files with (npm ci is a
# no-op when the lockfile is already satisfied). The grammar is used as
# WebAssembly, so its native install script is skipped.
test-tools: $(COSMOS_TOOLS)/node_modules/.package-lock.json $(BICEP_GRAMMAR)/node_modules/.package-lock.json

$(COSMOS_TOOLS)/node_modules/.package-lock.json: $(COSMOS_TOOLS)/package.json $(COSMOS_TOOLS)/package-lock.json
	cd $(COSMOS_TOOLS) && npm ci --no-audit --no-fund --loglevel=error

$(BICEP_GRAMMAR)/node_modules/.package-lock.json: $(BICEP_GRAMMAR)/package.json $(BICEP_GRAMMAR)/package-lock.json
	cd $(BICEP_GRAMMAR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

# browser installs Debian's chromium for the console's browser tests
# (handler/console_browser_test.go) when it is not on PATH; apt needs root,
# which CI and the development machines are (sudo otherwise).
# CHROMIUM=none make browser exercises the install on a machine that has it.
CHROMIUM ?= chromium
browser:
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
	  echo "installing chromium for the console browser tests"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null; }

test: test-tools browser lint
	$(GO) test -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory fuzz

# fuzz runs each fuzz target for FUZZTIME from its committed seed corpus
# (testdata/fuzz/<target>): the HTTP edge's from one instrumented test
# binary (one link, not one per target), then the invocation envelope's.
# A failing input is written beside the seeds; commit it with the fix.
# The default is a count, not a duration: a timed run can end with a spurious
# "context deadline exceeded" when the deadline falls inside a slow input.
# FUZZTIME=30s (any go test -fuzztime value) fuzzes longer by hand.
FUZZTIME ?= 2000x
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

# bench runs the tables of bench/benchmarks.json, one test process per row,
# and writes bench/RESULTS.md, bench/results.json and README.md's
# measurement block. BENCH_ONLY=id[,id] reruns some tables and keeps the rest.
bench: build
	$(GO) run ./tools/benchtable $(if $(BENCH_ONLY),-only $(BENCH_ONLY))

# bench-render regenerates RESULTS.md and the README block from results.json.
bench-render:
	$(GO) run ./tools/benchtable -render

# bench-all runs every benchmark of every package in one go test (quick look;
# memory figures after the first benchmark of a process are not reported).
bench-all: test-tools build
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './test-tools/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin dist
