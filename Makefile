# The two commands of the README, and a few conveniences. The build
# itself is meson's: this file only chains the steps.
BUILD ?= build
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc

.PHONY: all deps build run test install clean

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

# Install the programs, systemd units, default settings (kept when already
# there) and docs under PREFIX, settings in SYSCONFDIR/onair; DESTDIR for
# a staging tree. docs/operations.md says what to do next.
install: build
	@meson configure $(BUILD) -Dprefix=$(PREFIX) -Dsysconfdir=$(SYSCONFDIR)
	@DESTDIR="$(DESTDIR)" meson install -C $(BUILD) --quiet

clean:
	rm -rf build build-asan build-fuzz .run build*.setup.log
