# Tessera: `make demo` and `make test` set up a fresh Debian 12 machine (as root) and run.
BUILD ?= build
ASAN ?= build-asan
ANALYZER ?= build-analyzer
FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
# make deb: the .debs land here (the tree is copied to $(DEB_OUT)/src and built there).
DEB_OUT ?= build-deb
HUGEPAGES_MB ?= 1024
# make image: the appliance (image/build.sh), from the .debs of make deb, or of IMAGE_DEBS.
IMAGE ?= build/tessera-appliance.qcow2
IMAGE_DEBS ?=
MESON_OPTS ?=
# Test builds have the fault points of tessd and tessmgrd (TESS_FAULT, tests/*/test_faults.py);
# a package build (plain meson setup) does not.
TEST_OPTS = -Dfault_points=true
# A build directory set up before the option existed gets it too.
FAULTS_ON = meson introspect --buildoptions $(1) | /usr/bin/python3 -c 'import json, sys; \
	sys.exit(not any(o["name"] == "fault_points" and o["value"] for o in json.load(sys.stdin)))' \
	|| meson configure $(1) $(TEST_OPTS)

SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')

.PHONY: all deps bench-deps build build-asan build-fuzz analyze hugepages test test-asan unit fuzz format \
	format-check docs demo bench clean deb image

all: build

deps:
	@tests/env/deps.sh

bench-deps:
	@tests/env/deps.sh bench

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(TEST_OPTS) $(MESON_OPTS)

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false $(TEST_OPTS) $(MESON_OPTS)

# gcc's static analyzer over every C file, tests included; compiled only, warnings are errors.
$(ANALYZER)/build.ninja:
	meson setup $(ANALYZER) -Dc_args=-fanalyzer $(TEST_OPTS) $(MESON_OPTS)

# libFuzzer targets (tests/fuzz): clang, every file instrumented, ASan+UBSan (README "Fuzzing").
$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) -Dfuzz=true -Db_lundef=false $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	@$(call FAULTS_ON,$(BUILD))
	ninja -C $(BUILD)

build-asan: deps $(ASAN)/build.ninja
	@$(call FAULTS_ON,$(ASAN))
	ninja -C $(ASAN)

build-fuzz: deps $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

analyze: deps $(ANALYZER)/build.ninja
	@$(call FAULTS_ON,$(ANALYZER))
	ninja -C $(ANALYZER)

hugepages:
	@tests/env/hugepages.sh $(HUGEPAGES_MB)

format:
	clang-format -i $(SOURCES)

format-check: deps
	@echo "format: checking $(words $(SOURCES)) files against .clang-format"
	@clang-format --dry-run --Werror $(SOURCES)

# README's config and API reference tables, from tessd's schemas (`make test` checks them).
docs: build
	TESS_BUILD=$(abspath $(BUILD)) /usr/bin/python3 tests/docs/gen-reference.py --write

UNIT_ASAN = meson test -C $(ASAN) --suite unit --print-errorlogs
ALL = meson test -C $(BUILD) --print-errorlogs --timeout-multiplier 2
# Every seed and past crash of tests/fuzz through the targets under ASan+UBSan (gcc, a replay
# driver), then each libFuzzer target for FUZZ_TEST_SECONDS.
FUZZ_REPLAY = meson test -C $(ASAN) --suite fuzz --print-errorlogs
FUZZ_TEST_SECONDS ?= 20
FUZZ_SHORT = tests/fuzz/run.sh $(FUZZ) $(FUZZ_TEST_SECONDS)
INTEGRATION_ASAN = meson test -C $(ASAN) --suite dataplane --suite mgmt --suite e2e \
	--print-errorlogs --timeout-multiplier 2

# gcc -fanalyzer (a build of its own), unit tests under ASan+UBSan, the fuzz corpora and past
# crashes replayed under ASan+UBSan and each libFuzzer target for a short while, every test (unit
# and integration) on the normal build, then the integration tests under ASan+UBSan. Each run
# goes on when an earlier one failed, so that every failure is reported; make test fails if any
# did.
test: deps format-check build build-asan build-fuzz analyze hugepages
	@rc=0; \
	echo "$(UNIT_ASAN)"; $(UNIT_ASAN) || rc=1; \
	echo "$(FUZZ_REPLAY)"; $(FUZZ_REPLAY) || rc=1; \
	echo "$(FUZZ_SHORT)"; $(FUZZ_SHORT) || rc=1; \
	echo "$(ALL)"; $(ALL) || rc=1; \
	echo "$(INTEGRATION_ASAN)"; $(INTEGRATION_ASAN) || rc=1; \
	exit $$rc

# The integration tests alone under ASan+UBSan (make test runs them too).
test-asan: deps build-asan hugepages
	$(INTEGRATION_ASAN)

# Each libFuzzer target for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=3600); what they find is kept
# in $(FUZZ)/fuzz-corpus, crashes in $(FUZZ)/fuzz-artifacts.
fuzz: build-fuzz
	tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)

unit: build build-asan
	$(UNIT_ASAN)

demo: build hugepages
	tests/e2e/demo.sh $(BUILD)

bench: bench-deps build
	tests/bench/run xconnect
	tests/bench/run xconnect --dut-cpu-pct 50
	tests/bench/run vswitch
	tests/bench/run vswitch --dut-cpu-pct 50
	tests/bench/run router
	tests/bench/run router --dut-cpu-pct 50
	tests/bench/run fib-scale
	tests/bench/run placement
	tests/bench/run roam
	tests/bench/run kernel-sync
	tests/bench/run nat
	tests/bench/run nat-scale
	tests/bench/run policer
	tests/bench/run dhcp
	tests/bench/run dns
	tests/bench/run firewall
	tests/bench/run router-tenants
	tests/bench/run router-tenants --dut-cpu-pct 50
	tests/bench/run vswitch-tenants
	tests/bench/run vswitch-tenants --dut-cpu-pct 50

# Debian package tessera (debian/, dh with meson) built from a copy of the tree, so that the
# tree and its build directories are untouched; lintian's findings are printed, not fatal.
deb: deps
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)/src
	tar -cf - --exclude-vcs --exclude='./build*' --exclude='./$(DEB_OUT)' \
		--exclude=__pycache__ --exclude=.pytest_cache . | tar -xf - -C $(DEB_OUT)/src
	cd $(DEB_OUT)/src && dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_OUT)/src
	@if command -v lintian >/dev/null; then \
		echo "lintian $(DEB_OUT)/*.changes (findings are not fatal)"; \
		lintian --no-tag-display-limit $(DEB_OUT)/*.changes || true; \
	fi
	@ls -l $(DEB_OUT)/*.deb

# Debian 12 with the Tessera .debs, tessd enabled, serial console: a bootable qcow2 (README
# "Appliance image"; apt's downloads are kept in /var/cache/tessera-image).
image: deps $(if $(IMAGE_DEBS),,deb)
	image/build.sh $(IMAGE) $(or $(IMAGE_DEBS),$(DEB_OUT)/*.deb)

clean:
	rm -rf $(BUILD) $(ASAN) $(ANALYZER) $(FUZZ) $(DEB_OUT)
