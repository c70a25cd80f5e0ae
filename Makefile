# Strata. `make` lists the targets; `make run` starts the engine; `make test` runs every test.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/strata
DATA_DIR ?= ./.strata
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := bin/golangci-lint-$(GOLANGCI_LINT_VERSION)

.PHONY: help build run test test-short bench lint fmt generate check deps

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[36m%-11s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build the strata binary into bin/
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/strata

run: build ## start strata serve on the embedded default (badger + local files under ./.strata)
	$(BIN) serve --data-dir $(DATA_DIR) --allow-file-repositories

test: deps ## run every test (race detector on; installs and starts what the tests need)
	$(GO) test -race -count=1 -timeout 20m ./...

test-short: ## run the tests without installing anything, with fewer crash rounds and no 200 MiB blobs
	$(GO) test -race -short ./...

bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchtime 3s ./...

lint: $(GOLANGCI_LINT) ## golangci-lint with the repository's rules (.golangci.yml)
	$(GOLANGCI_LINT) run ./...

$(GOLANGCI_LINT):
	mkdir -p bin/.lint
	GOBIN=$(CURDIR)/bin/.lint $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv bin/.lint/golangci-lint $@

fmt: ## gofmt -s the tree
	gofmt -s -w $$(git ls-files '*.go')

generate: ## go generate ./...
	$(GO) generate ./...

check: lint generate ## lint, regenerate and fail if anything changed or go.mod is untidy
	git diff --exit-code
	$(GO) mod tidy -diff

deps: ## install and start what the tests need on Debian (idempotent)
	@bash scripts/deps.sh
