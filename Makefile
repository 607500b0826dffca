# Thin wrapper over meson and the test scripts.
#   make demo   install missing build packages, build into build/, run the README demo
#   make test   install the test tools too, build with AddressSanitizer and UBSan into
#               build-asan/, run the unit tests (meson test), the unit tests again under
#               ThreadSanitizer (build-tsan/), each fuzz target for FUZZ_SECONDS, and the
#               integration tests against the AddressSanitizer binary
#   make fuzz   only the fuzz targets

BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS ?= 2

.PHONY: all deps test-deps build build-asan build-tsan demo test fuzz clean

all: build

# deps and build print on stderr, so that `make demo` leaves stdout to the alerts.
deps:
	@scripts/install-deps.sh build >&2

test-deps:
	scripts/install-deps.sh test

build: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then meson setup $(BUILD) >&2; fi
	@ninja -C $(BUILD) -j$(JOBS) >&2

# The demo's baseline goes to a temporary folder, removed afterwards.
demo: build
	@dir=$$(mktemp -d) && $(BUILD)/dnsfirst run -r tests/data/sample.pcap --learning-period 0 \
	    --state "$$dir/b.db"; status=$$?; rm -rf "$$dir"; exit $$status

build-asan: test-deps
	if [ ! -f $(ASAN_BUILD)/build.ninja ]; then meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined; fi
	ninja -C $(ASAN_BUILD) -j$(JOBS)

# The store's writer, checkpoint and prefault threads run under ThreadSanitizer too.
build-tsan: test-deps
	if [ ! -f $(TSAN_BUILD)/build.ninja ]; then meson setup $(TSAN_BUILD) -Db_sanitize=thread; fi
	ninja -C $(TSAN_BUILD) -j$(JOBS)

# UBSan only prints by default: make every report fail the test that caused it.
test: export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
# The plain build serves the tests that measure memory, which AddressSanitizer inflates.
test: build-asan build-tsan build
	meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes $(JOBS)
	# One unit test kills a child process on purpose, which leaves its threads unjoined.
	TSAN_OPTIONS=halt_on_error=1:report_thread_leaks=0 \
	    meson test -C $(TSAN_BUILD) --print-errorlogs --num-processes $(JOBS)
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/fuzz/run.sh
	DNSFIRST=$(ASAN_BUILD)/dnsfirst DNSFIRST_PLAIN=$(BUILD)/dnsfirst tests/integration/run_all.sh

# Each libFuzzer target for FUZZ_SECONDS (default 60) under ASan and UBSan.
fuzz: test-deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
