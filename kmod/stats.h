/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: per-CPU counters of a namespace (stats.c).
 */
#ifndef _MUTEX_PROXY_STATS_H
#define _MUTEX_PROXY_STATS_H

#include <linux/mutex_proxy.h>
#include <linux/percpu.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>

/* Counters are enum mutex_stats_attr from MUTEX_STATS_A_PKTS_SEEN on. */
#define MUTEX_PROXY_STAT_FIRST	MUTEX_STATS_A_PKTS_SEEN
#define MUTEX_PROXY_NR_STATS	(MUTEX_STATS_A_MAX - MUTEX_PROXY_STAT_FIRST + 1)

/**
 * struct mutex_proxy_pcpu_stats - one CPU's counters of one namespace
 * @cnt: counters, index (attr - MUTEX_PROXY_STAT_FIRST)
 * @syncp: makes 64-bit reads consistent on 32-bit kernels
 */
struct mutex_proxy_pcpu_stats {
	u64_stats_t cnt[MUTEX_PROXY_NR_STATS];
	struct u64_stats_sync syncp;
};

/**
 * struct mutex_proxy_stats_sum - counters summed over all CPUs
 * @cnt: counters, index (attr - MUTEX_PROXY_STAT_FIRST)
 */
struct mutex_proxy_stats_sum {
	u64 cnt[MUTEX_PROXY_NR_STATS];
};

struct mutex_proxy_pcpu_stats __percpu *mutex_proxy_stats_alloc(void);
void mutex_proxy_stats_free(struct mutex_proxy_pcpu_stats __percpu *stats);
void mutex_proxy_stats_sum(struct mutex_proxy_pcpu_stats __percpu *stats,
			   struct mutex_proxy_stats_sum *sum);
const char *mutex_proxy_stat_name(enum mutex_stats_attr attr);

/**
 * mutex_proxy_stats_add() - add to one counter of this CPU
 * @stats: per-CPU counters of a namespace
 * @attr: counter, MUTEX_STATS_A_PKTS_SEEN..MUTEX_STATS_A_MAX
 * @n: amount
 *
 * Safe from process, softirq and hardirq context: preemption is off while
 * this CPU's slot is written, and on 32-bit kernels interrupts are off inside
 * the u64_stats write section (on 64-bit that costs nothing, the add is a
 * single local operation).
 */
static inline void
mutex_proxy_stats_add(struct mutex_proxy_pcpu_stats __percpu *stats,
		      enum mutex_stats_attr attr, unsigned long n)
{
	struct mutex_proxy_pcpu_stats *s;
	unsigned long flags;

	s = get_cpu_ptr(stats);
	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->cnt[attr - MUTEX_PROXY_STAT_FIRST], n);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(stats);
}

#endif /* _MUTEX_PROXY_STATS_H */
