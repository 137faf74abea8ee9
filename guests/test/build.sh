#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the test guest without meson (for working on it alone):
#   guests/test/build.sh [outdir]        default outdir: /tmp/testguest
# Environment: CROSS (default aarch64-linux-gnu-), GUEST_RAM_MIB (default 128).
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/testguest}
cross=${CROSS:-aarch64-linux-gnu-}
picolibc=/usr/lib/picolibc/aarch64-linux-gnu
ram_mib=${GUEST_RAM_MIB:-128}
mkdir -p "$out"

cflags=(-std=gnu11 -nostdinc -isystem "$picolibc/include"
        -isystem "$("${cross}gcc" -print-file-name=include)"
        -ffreestanding -fno-pie -fno-pic -fno-stack-protector -fno-common
        -mgeneral-regs-only -mstrict-align -ffunction-sections -fdata-sections -g
        -O2 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes
        -Wmissing-prototypes -Wvla -Wcast-qual -Wswitch-default
        -DGUEST_RAM_MIB="$ram_mib")
objs=()
for f in start.S console.c gic.c mmu.c exc.c main.c cmd_mem.c cmd_bad.c; do
    o="$out/${f%.*}.o"
    "${cross}gcc" "${cflags[@]}" -c "$src/$f" -o "$o"
    objs+=("$o")
done
"${cross}gcc" -nostdlib -static -no-pie -Wl,--gc-sections -Wl,--build-id=none \
    -T "$src/guest.ld" -o "$out/testguest.elf" "${objs[@]}" "$picolibc/lib/libc.a"
"${cross}objcopy" -O binary "$out/testguest.elf" "$out/testguest.bin"
echo "$out/testguest.bin"
