# SPDX-License-Identifier: Apache-2.0
# The two commands a user needs: `make demo` and `make test`. Both install what is missing.
BOARD ?= qemu-virt-arm64
BUILD := build/$(BOARD)
LINUX_BUILD := build/$(BOARD)-linux
# The board's meson file names its arch; the arch's cross file follows from it.
ARCH := $(shell sed -n "s/^board_arch = '\(.*\)'/\1/p" boards/$(BOARD)/meson.build)
CPU := $(shell sed -n "s/^arch_cpu_family = '\(.*\)'/\1/p" kernel/arch/$(ARCH)/meson.build)
MESON_OPTS ?=
GUEST ?= test

.PHONY: all setup build linux test demo bench format format-check clean distclean

all: build

setup:
	@tools/setup

$(BUILD)/build.ninja:
	meson setup $(BUILD) --cross-file build/cross-$(CPU).ini --wrap-mode=nodownload \
		-Dboard=$(BOARD) $(MESON_OPTS)

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The same hypervisor with the Debian Linux guest (fetched from Debian's archive, see
# guests/linux/build-image) packed in instead of the test guest.
linux: build
	guests/linux/build-image --out build/linux
	[ -f $(LINUX_BUILD)/build.ninja ] || meson setup $(LINUX_BUILD) \
		--cross-file build/cross-$(CPU).ini --wrap-mode=nodownload -Dboard=$(BOARD) \
		-Dguest_bundle=$(abspath build/linux/guest-linux.img) -Dguest_ram_mib=256 $(MESON_OPTS)
	ninja -C $(LINUX_BUILD) colovisor.bin

test: build linux
	tests/run-tests --build $(BUILD)

demo: build $(if $(filter linux,$(GUEST)),linux)
	tools/demo --build $(BUILD) --guest $(GUEST)

bench: build linux
	tools/bench --build $(BUILD)

format:
	tools/format

format-check:
	tools/format --check

clean:
	rm -rf $(BUILD)

distclean:
	rm -rf build subprojects/packagecache subprojects/lwip-* subprojects/u-boot-* \
		subprojects/Mbed-TLS-mbedtls-*
