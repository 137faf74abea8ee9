/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lwIP configuration of the test guest: NO_SYS (raw API, polled from the command loop), IPv4,
 * ARP, ICMP echo and TCP only. Sized for the counter service: dozens of connections at once,
 * each with a few KiB in flight. Everything is static (bss); nothing here uses malloc.
 */
#ifndef TESTGUEST_LWIPOPTS_H
#define TESTGUEST_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* lwIP never runs in an interrupt handler */
#define LWIP_TIMERS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 0
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_SINGLE_NETIF 1
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_STATS 0
#define LWIP_TCP_KEEPALIVE 0

#define MEM_ALIGNMENT 8
#define MEM_SIZE (512 * 1024)
#define MEMP_NUM_PBUF 64
#define PBUF_POOL_SIZE 256
#define MEMP_NUM_ARP_QUEUE 32
#define ARP_TABLE_SIZE 16
#define ETH_PAD_SIZE 0

/*
 * TCP: 128 connections (a SYN beyond that is dropped, the client retries), a backlog for
 * connection storms; nagle is off per connection.
 */
#define TCP_MSS 1460
#define TCP_WND (8 * TCP_MSS)
#define TCP_SND_BUF (8 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_PCB 128
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG 512
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 64
#define TCP_QUEUE_OOSEQ 1

#endif
