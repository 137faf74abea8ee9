/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor's time base and its one-shot timer (arch: the EL2 physical timer on arm64). */
#ifndef CV_TIMER_H
#define CV_TIMER_H

#include <cv/types.h>

/** Counter ticks since an arbitrary point, and their frequency. Any context. */
uint64_t timer_arch_ticks(void);
uint64_t timer_arch_freq(void);
/** Arms the hypervisor's own timer to fire at absolute tick count t (0 disarms). */
void timer_arch_set_deadline(uint64_t t);
/** Called by the interrupt path when the hypervisor timer fired; disarms it. */
void timer_arch_ack(void);
/**
 * The urgent timer (arch: the EL1 physical timer, which the guest never gets): a second
 * one-shot timer whose interrupt preempts the hypervisor itself (hv_urgent_start). Arms it for
 * absolute tick t (0 disarms); ack disarms it from its interrupt. Any context.
 */
void timer_arch_set_urgent(uint64_t t);
void timer_arch_ack_urgent(void);

uint64_t time_now_us(void);
uint64_t time_now_ns(void);
uint64_t timer_us_to_ticks(uint64_t us);

#endif
