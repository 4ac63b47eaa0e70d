# Convrs Admin. `make run` starts the whole API locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
# The functions: one folder each under functions/ (the folder is the list).
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
BUILD_DIR ?= build
# staticcheck, pinned; `go run` fetches it through the module proxy on first use, so a
# fresh machine needs nothing but Go.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: run test unit lint build bench sizes clean

## run: serve every route on http://127.0.0.1:3000 with the embedded store (data in .local/);
## pass flags with ARGS, e.g. make run ARGS="-addr 127.0.0.1:3001"
run:
	$(GO) run ./cmd/local $(ARGS)

## test: gofmt, vet and staticcheck, then every test with -race, DynamoDB Local and aws-ses-v2-local started for the integration suites
test: lint
	./scripts/test.sh

## unit: the tests that need no outside service
unit:
	$(GO) test -race ./...

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './node_modules/*' -not -path './.git/*' -not -path './build/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## build: every function as a stripped linux/arm64 bootstrap in build/<function>/bootstrap
build:
	@for f in $(FUNCTIONS); do \
		echo "build $$f"; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(BUILD_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## sizes: build every function and the floor it needs (the Lambda runtime, the adapter, the
## SDK clients it calls), print both, and fail if a bootstrap is 10 MiB or more
sizes:
	$(GO) run ./internal/sizes -out $(BUILD_DIR)

## bench: benchmarks (ns/op, allocs/op); figures are recorded in BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# SAM build targets (BuildMethod: makefile): `sam build` runs make build-<LogicalId> with
# ARTIFACTS_DIR set. A function's logical id is its folder name in CamelCase plus
# "Function" (office-hours -> OfficeHoursFunction); the recipe turns it back into the
# folder.
build-%Function:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$$(echo '$*' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

clean:
	rm -rf $(BUILD_DIR) .aws-sam
