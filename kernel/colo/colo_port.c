// SPDX-License-Identifier: Apache-2.0
// The COLO library's port (colo/port.h) over the hypervisor's runtime library (kernel/lib). It
// depends on kernel/lib alone, so host unit tests and fuzz targets link it too: the library runs
// on the same log, formatter, CRC and page hash there as on the board.
#include <cv/hash.h>
#include <cv/log.h>
#include <cv/types.h>

#include <colo/port.h>
#include <colo/proto.h>

_Static_assert(COLO_LOG_ERR == (int)LOG_ERR && COLO_LOG_WARN == (int)LOG_WARN &&
                   COLO_LOG_INFO == (int)LOG_INFO && COLO_LOG_DEBUG == (int)LOG_DEBUG,
               "colo/port.h's log levels are the log's");
_Static_assert(COLO_PAGE_SIZE == PAGE_SIZE, "page_hash() hashes COLO pages");

void colo_port_log(enum colo_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg((enum log_level)lvl, fmt, ap);
    va_end(ap);
}

int colo_port_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    return cv_vsnprintf(buf, n, fmt, ap);
}

uint32_t colo_port_crc32c(uint32_t crc, const void *data, size_t len)
{
    return crc32c(crc, data, len);
}

uint64_t colo_port_page_hash(const void *page)
{
    return page_hash(page);
}
