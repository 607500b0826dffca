# Thin wrapper over meson and the test scripts.
#   make demo   install missing build packages, build into build/, run the README demo
#   make test   build with AddressSanitizer and UBSan into build-asan/, run the unit
#               tests (meson test) and the integration tests against that binary

BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2

.PHONY: all deps build build-asan demo test clean

all: build

deps:
	scripts/install-deps.sh

build: deps
	if [ ! -f $(BUILD)/build.ninja ]; then meson setup $(BUILD); fi
	ninja -C $(BUILD) -j$(JOBS)

demo: build
	$(BUILD)/dnsfirst run -r tests/data/sample.pcap --learning-period 0 --state "$$(mktemp -d)/b.db"

build-asan: deps
	if [ ! -f $(ASAN_BUILD)/build.ninja ]; then meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined; fi
	ninja -C $(ASAN_BUILD) -j$(JOBS)

# UBSan only prints by default: make every report fail the test that caused it.
test: export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
test: build-asan
	meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes $(JOBS)
	DNSFIRST=$(ASAN_BUILD)/dnsfirst tests/integration/run_all.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
