# SPDX-License-Identifier: Apache-2.0
# The two commands a user needs: `make demo` and `make test`. Both install what is missing.
BOARD ?= qemu-virt-arm64
BUILD := build/$(BOARD)
MESON_OPTS ?=

.PHONY: all setup build test demo bench format format-check clean distclean

all: build

setup:
	@tools/setup

$(BUILD)/build.ninja:
	meson setup $(BUILD) --cross-file build/cross-aarch64.ini --wrap-mode=nodownload \
		-Dboard=$(BOARD) $(MESON_OPTS)

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: build
	tests/run-tests --build $(BUILD)

demo: build
	tools/demo --build $(BUILD)

bench: build
	tools/bench --build $(BUILD)

format:
	tools/format

format-check:
	tools/format --check

clean:
	rm -rf $(BUILD)

distclean:
	rm -rf build subprojects/packagecache subprojects/lwip-* subprojects/u-boot-*
