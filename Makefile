# The two commands of the README, and a few conveniences. The build
# itself is meson's: this file only chains the steps.
BUILD ?= build

.PHONY: all deps build run test clean

all: build

deps:
	@scripts/install-deps.sh all

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --buildtype=debugoptimized
	@ninja -C $(BUILD)

# Install what is missing, build, and run a whole station in the
# foreground until Ctrl-C.
run: build
	@scripts/run-station.sh $(BUILD)

# Install what is missing, build (warnings are errors), run every test,
# once more under ASan+UBSan, and run the fuzzers.
test:
	@scripts/test.sh

clean:
	rm -rf build build-asan build-fuzz .run build*.setup.log
