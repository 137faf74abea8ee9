/* SPDX-License-Identifier: Apache-2.0 */
/* Checksums and hashes (kernel/lib). Pure computation: any context. */
#ifndef CV_HASH_H
#define CV_HASH_H

#include <cv/types.h>

/**
 * CRC32C (Castagnoli): the guest image bundle's and the checkpoint protocol's checksum. With the
 * CPU's CRC instructions where crc32c_arch_impl() offers them, else crc32c_table().
 */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/** One implementation of crc32c(): same arguments, same result. */
typedef uint32_t crc32c_fn(uint32_t crc, const void *data, size_t len);

/** The portable CRC32C, table-driven: the fallback, and the reference the others must match. */
uint32_t crc32c_table(uint32_t crc, const void *data, size_t len);

/**
 * Arch hook: the CPU's CRC32C, or NULL when this CPU has no instructions for it. Asked once, by
 * the first crc32c() (at boot: the guest image's check); any context.
 */
crc32c_fn *crc32c_arch_impl(void);

/**
 * 64-bit digest of one PAGE_SIZE-byte page (8-byte aligned): finds changed pages, it does not
 * resist an attacker. The one page hash of the hypervisor: `dirty verify` compares it, and COLO
 * verification sends its low 32 bits to the peer (colo_port_page_hash), so it is part of the
 * replication protocol: changing it breaks pairs of different versions.
 */
uint64_t page_hash(const void *page);

#endif
