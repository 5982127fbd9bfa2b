# Slipway's entry points. `make demo` and `make test` are the README's two
# commands; CI runs `make test` through .ci/run.
GO       ?= go
TOOLS    := $(CURDIR)/.tools/bin
BIN      := $(CURDIR)/bin
export PATH := $(TOOLS):$(BIN):$(PATH)
export CHECKPOINT_DISABLE := 1

.PHONY: all build demo test tools opentofu fmt-check vet bench bench-terraform bench-check clean

all: build

build:
	$(GO) build -o $(BIN)/slipway ./cmd/slipway

## demo: build Slipway and run the main job on examples/credit-risk
demo: build opentofu
	.ci/demo examples/credit-risk

## opentofu: OpenTofu built from source into .tools/bin (version in .ci/versions)
## when neither terraform nor tofu is on PATH, and in CI always
opentofu:
	.ci/install-opentofu

## tools: OpenTofu as above, and the real cosign and opa CLIs the
## interoperability tests use
tools:
	.ci/install-tools

## test: formatting, vet, every Go test (CUE, Rego, Terraform, PostgreSQL, cosign: all real),
## and the race detector on the spec loader, which shares CUE values between goroutines
test: tools fmt-check vet
	$(GO) mod tidy -diff
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -race -count=1 ./internal/spec

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## bench: every Go benchmark, slipway validate against cue vet,
## slipway plan against terraform plan + show in a shell loop, slipway
## check against conftest, and slipway monitor against the same aggregation
## by hand through psql on 10M rows
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...
	.ci/bench-cue-vet 1000 11
	.ci/bench-terraform 5
	.ci/bench-check 1000 5
	SLIPWAY=$(BIN)/slipway .ci/bench-monitor 10000000 3

bench-terraform:
	.ci/bench-terraform 5

## bench-check: slipway check --no-plan against conftest (CONFTEST=PATH) on
## the policy inputs it saved, 1,000 models in two environments
bench-check:
	.ci/bench-check 1000 5

clean:
	rm -rf $(BIN) .tools examples/*/.slipway
