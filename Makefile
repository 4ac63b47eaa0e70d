# Convrs Admin. `make run` starts the whole API locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
FUNCTIONS := general office-hours chat-handling audit
BUILD_DIR ?= build
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: run test unit lint build bench clean $(addprefix build-,$(FUNCTIONS))

run:
	$(GO) run ./cmd/local

test: lint
	./scripts/test.sh

unit:
	$(GO) test -race ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BUILD_DIR) .aws-sam
