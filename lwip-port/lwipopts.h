/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP options for the hypervisor's own stack. Its job: bulk TCP to the peer board over the
 * replication link (checkpoints, megabytes per epoch), ICMP for diagnostics, and later a few
 * heartbeats on the service LAN. One thread, raw API, everything statically sized in .bss.
 * Justifications and measured numbers: docs/networking.md.
 */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

/* ---- system: one CPU, no threads, no OS ---- */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* nothing preempts lwIP: it only runs in hypervisor context */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0
#define LWIP_TIMERS 1 /* sys_check_timeouts() from hvnet_poll() */

/* ---- protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1 /* answers pings; `net ping` uses a raw pcb */
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0 /* static addresses from the board configuration */
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_FORWARD 0
#define IP_REASSEMBLY 0 /* nothing we talk to fragments; saves the reassembly buffers */
#define IP_FRAG 0
#define ARP_TABLE_SIZE 8
#define ARP_QUEUEING 1 /* keep the first packets to a peer while its ARP reply is under way */
#define ETHARP_SUPPORT_STATIC_ENTRIES 1 /* the authenticated peer's address is pinned */

/* ---- memory ---- */
#define MEM_ALIGNMENT 8
#define MEM_LIBC_MALLOC 0 /* no malloc in the hypervisor: lwIP's own heap (a .bss array) */
#define MEMP_MEM_MALLOC 0
/* Heap: tcp_write(COPY) data and header pbufs. Two connections' full send buffers plus slack. */
#define MEM_SIZE (512 * 1024)
#define MEMP_NUM_PBUF 64 /* PBUF_REF/ROM: few users (ARP queue) */
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_UDP_PCB 4
#define MEMP_NUM_TCP_PCB 8
#define MEMP_NUM_TCP_PCB_LISTEN 4
/* Every queued segment (send queue of each connection, plus out-of-sequence receive). */
#define MEMP_NUM_TCP_SEG (2 * TCP_SND_QUEUELEN + TCP_WND / TCP_MSS)
#define MEMP_NUM_ARP_QUEUE 16
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
/*
 * Receive pbufs: a received frame is copied out of the NIC ring into pool pbufs, which live
 * until the application has consumed them. A full receive window (TCP_WND) out of order must
 * fit, plus what is in flight towards lwIP, hence ~2 windows of full-size segments.
 */
#define PBUF_POOL_SIZE 128
#define PBUF_POOL_BUFSIZE                                                                          \
    LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)
#define ETH_PAD_SIZE 0

/* ---- TCP, tuned for bulk transfer on a dedicated link ---- */
#define TCP_MSS 1460 /* 1500-byte MTU minus IPv4 and TCP headers: full frames */
/*
 * 44 segments = 64240 bytes: the largest window without window scaling (16-bit fields). At
 * the link's round trip under QEMU (~1 ms) this is far beyond the bandwidth-delay product; on
 * hardware at 1 Gbit/s and 0.1 ms RTT it still is (12.5 KB).
 */
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_SNDLOWAT (TCP_SND_BUF / 2) /* tcp_sent wakes the writer once half is free */
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
#define TCP_QUEUE_OOSEQ 1
#define TCP_OVERSIZE TCP_MSS /* tcp_write(COPY) fills whole segments, fewer pbufs */
#define LWIP_TCP_TIMESTAMPS 0
#define TCP_LISTEN_BACKLOG 0
/* The replication listener takes SYNs from the configured peer only (kernel/colo/colo_link.c):
 * a host on the link cannot fill the pcb pool with half-open connections. */
int colo_link_tcp_filter(const void *pcb, unsigned int src_be);
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p)                             \
    colo_link_tcp_filter((const void *)(pcb), ip4_addr_get_u32(ip4_current_src_addr()))
#define LWIP_TCP_KEEPALIVE 1 /* a dead peer is noticed on an idle checkpoint connection */
#define SO_REUSE 1 /* a secondary re-listens on its port while old connections are in TIME-WAIT */
#define TCP_MAXRTX 12
#define TCP_SYNMAXRTX 6

/* ---- checksums: in software both ways (no offloads negotiated with virtio-net) ---- */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_ICMP 1
#define LWIP_CHKSUM_ALGORITHM 3 /* 32-bit accumulation: the fastest portable one */
/* Checksum while copying into the send buffer: data is touched once. */
#define LWIP_CHECKSUM_ON_COPY 1

/* ---- netif ---- */
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_SINGLE_NETIF 0 /* replication and service LAN */
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_LOOPBACK 0

/* ---- statistics (for `net`); LWIP_DEBUG stays undefined (no debug output) ---- */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LWIP_STATS_LARGE 1 /* 32-bit counters: 16-bit ones wrap within one checkpoint */
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0

#endif
