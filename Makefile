# Slipway's entry points. `make demo` and `make test` are the README's two
# commands; CI runs `make test` through .ci/run.
GO       ?= go
TOOLS    := $(CURDIR)/.tools/bin
BIN      := $(CURDIR)/bin
export PATH := $(TOOLS):$(BIN):$(PATH)
export CHECKPOINT_DISABLE := 1

.PHONY: all build demo test tools fmt-check vet bench clean

all: build

build:
	$(GO) build -o $(BIN)/slipway ./cmd/slipway

## demo: build Slipway and run the main job on examples/credit-risk
demo: build
	.ci/demo examples/credit-risk

## tools: the real cosign and opa CLIs the interoperability tests use
tools:
	.ci/install-tools

## test: formatting, vet, every Go test (CUE, Rego, Terraform, PostgreSQL, cosign: all real),
## and the race detector on the spec loader, which shares CUE values between goroutines
test: tools fmt-check vet
	$(GO) mod tidy -diff
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 ./internal/spec

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## bench: every Go benchmark, then slipway validate against cue vet
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...
	.ci/bench-cue-vet 1000 11

clean:
	rm -rf $(BIN) .tools examples/*/.slipway
