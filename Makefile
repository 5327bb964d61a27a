# netkeep developer commands. `make test` is what CI runs (see .ci/run).
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BUILD_DATE ?= $(shell date -u +%Y-%m-%d)
LDFLAGS := -X main.version=$(VERSION) -X main.buildDate=$(BUILD_DATE)

.PHONY: run build test bench lint

run:
	$(GO) run ./cmd/netkeep serve

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/netkeep ./cmd/netkeep

# The whole suite. PostgreSQL variants run when NETKEEP_TEST_POSTGRES_URL is set.
test:
	$(GO) test -race -count=1 -timeout 30m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# staticcheck runs at a pinned version through the module proxy, so lint
# needs nothing installed beyond Go.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
