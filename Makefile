# pktexpect: the README's commands. The build itself is CMake (build/).
.PHONY: all deps build demo test check bench install clean

BUILD ?= build

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j2

# The main job on its built-in demo topology (needs root for veth and namespaces).
# Builds only the pktexpect program, quietly (scripts/demo.sh).
demo:
	@scripts/demo.sh $(BUILD)

# Every test: normal build, sanitizer builds, bounded fuzz runs.
test:
	@scripts/deps.sh build test
	@scripts/test.sh

# The normal build's tests only (quick loop while developing).
check:
	@scripts/deps.sh build test
	@PX_TEST_QUICK=1 scripts/test.sh

bench: build
	@scripts/deps.sh bench
	@scripts/bench.sh $(BUILD)

install: build
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-test
