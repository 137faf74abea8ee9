#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the test guest without meson (for working on it alone):
#   guests/test/build.sh [outdir]        default outdir: /tmp/testguest
# Environment: CROSS (default aarch64-linux-gnu-), GUEST_RAM_MIB (default 128), NET_IP (the
# guest's address as a,b,c,d; TEST-NET only, default 192,0,2,10).
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
        -DGUEST_RAM_MIB="$ram_mib" ${NET_IP:+-DNET_IP=$NET_IP})
# lwIP: the sources the lwip subproject lists (unpacked by meson into subprojects/lwip-2.1.3,
# else unpacked here from the Debian tarball tools/setup fetched), with relaxed warnings.
top=$(cd "$src/../.." && pwd)
lwip=$top/subprojects/lwip-2.1.3
if [ ! -d "$lwip/src" ]; then
    lwip=$out/lwip-src/lwip-2.1.3
    if [ ! -d "$lwip/src" ]; then
        mkdir -p "$out/lwip-src"
        tar -xf "$top"/subprojects/packagecache/lwip_2.1.3+dfsg1.orig.tar.xz -C "$out/lwip-src"
    fi
fi
mapfile -t lwip_files < <(grep -o "'src/[^']*\.c'" "$top/subprojects/packagefiles/lwip/meson.build" |
                          tr -d "'")
inc=(-I"$src" -I"$top/lwip-port/include" -I"$lwip/src/include")
lwip_cflags=()
for f in "${cflags[@]}"; do
    [ "$f" = -Wpedantic ] || lwip_cflags+=("$f")
done
lwip_cflags+=(-Wno-cast-qual -Wno-missing-prototypes -Wno-shadow -Wno-switch-default
              -Wno-sign-compare -Wno-unused-parameter -Wno-address)
objs=()
mkdir -p "$out/lwip"
for f in "${lwip_files[@]}"; do
    o="$out/lwip/$(echo "${f%.*}" | tr / _).o"
    "${cross}gcc" "${lwip_cflags[@]}" "${inc[@]}" -c "$lwip/$f" -o "$o"
    objs+=("$o")
done
for f in start.S console.c gic.c mmu.c exc.c main.c cmd_mem.c cmd_bad.c virtio_net.c net.c \
         sys_arch.c; do
    o="$out/${f%.*}.o"
    "${cross}gcc" "${cflags[@]}" "${inc[@]}" -c "$src/$f" -o "$o"
    objs+=("$o")
done
"${cross}gcc" -nostdlib -static -no-pie -Wl,--gc-sections -Wl,--build-id=none \
    -T "$src/guest.ld" -o "$out/testguest.elf" "${objs[@]}" "$picolibc/lib/libc.a"
"${cross}objcopy" -O binary "$out/testguest.elf" "$out/testguest.bin"
echo "$out/testguest.bin"
