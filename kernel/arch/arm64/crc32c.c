// SPDX-License-Identifier: Apache-2.0
// CRC32C with the CRC32CB/CRC32CX instructions, where ID_AA64ISAR0_EL1.CRC32 says the CPU has
// them (optional in Armv8.0; the Cortex-A53 and QEMU's -cpu max do). The instructions come
// through the ACLE intrinsics in a function compiled for +crc alone, so the rest of the image
// stays plain Armv8.0. Host builds compile only the choice (crc32c_arch_impl): the instructions
// themselves are in crc32c_insn.c.
#include <cv/hash.h>

#include <arch/arm64.h>
#include <arch/sysreg.h>

crc32c_fn *crc32c_arch_impl(void)
{
    return ISAR0_CRC32(read_sysreg(id_aa64isar0_el1)) >= 1 ? arm64_crc32c : NULL;
}
