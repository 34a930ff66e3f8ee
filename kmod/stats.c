// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: per-CPU 64-bit statistics of a network namespace.
 *
 * Writers (mutex_proxy_stats_add() in stats.h) only touch their own
 * CPU's slot; readers sum all possible CPUs, each slot read consistently
 * under its u64_stats_sync. Counters of a CPU that goes offline stay in its
 * slot, so sums never go backwards.
 */
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/string.h>

#include "stats.h"
#include "compat.h"

#define MUTEX_PROXY_STAT_NAME(attr, name) \
	[(attr) - MUTEX_PROXY_STAT_FIRST] = (name)

static const char * const mutex_proxy_stat_names[MUTEX_PROXY_NR_STATS] = {
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_PKTS_SEEN, "pkts_seen"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_PKTS_STEERED, "pkts_steered"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_FLOWS_NEW, "flows_new"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_FLOWS_STEERED, "flows_steered"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_FLOWS_BYPASSED, "flows_bypassed"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_FLOWS_DROPPED, "flows_dropped"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_CACHE_HITS, "cache_hits"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_CACHE_MISSES, "cache_misses"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_TABLE_INSERTS, "table_inserts"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_TABLE_EVICTIONS, "table_evictions"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_TABLE_FULL, "table_full"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_ALLOC_FAILS, "alloc_fails"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_BATCH_FLUSHES, "batch_flushes"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_EVENTS_SENT, "events_sent"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_EVENTS_LOST, "events_lost"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_BYTES_STEERED, "bytes_steered"),
	MUTEX_PROXY_STAT_NAME(MUTEX_STATS_A_FLOWS_ADOPTED, "flows_adopted"),
};

/**
 * mutex_proxy_stat_name() - name of a counter in /proc/net/mutex_proxy
 * @attr: counter, enum mutex_stats_attr
 *
 * Return: the name, or NULL if @attr is not a counter.
 */
const char *mutex_proxy_stat_name(enum mutex_stats_attr attr)
{
	if (attr < MUTEX_PROXY_STAT_FIRST || attr > MUTEX_STATS_A_MAX)
		return NULL;
	return mutex_proxy_stat_names[attr - MUTEX_PROXY_STAT_FIRST];
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_stat_name);

/**
 * mutex_proxy_stats_alloc() - allocate zeroed per-CPU counters
 *
 * Sleeps. The caller owns the result and frees it with
 * mutex_proxy_stats_free() once no writer can reach it any more.
 *
 * Return: the counters, or NULL when out of memory.
 */
struct mutex_proxy_pcpu_stats __percpu *mutex_proxy_stats_alloc(void)
{
	struct mutex_proxy_pcpu_stats __percpu *stats;
	int cpu;

	stats = alloc_percpu(struct mutex_proxy_pcpu_stats);
	if (!stats)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_stats_alloc);

/**
 * mutex_proxy_stats_free() - free counters from mutex_proxy_stats_alloc()
 * @stats: counters, or NULL
 */
void mutex_proxy_stats_free(struct mutex_proxy_pcpu_stats __percpu *stats)
{
	free_percpu(stats);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_stats_free);

/**
 * mutex_proxy_stats_sum() - sum the counters of all possible CPUs
 * @stats: per-CPU counters
 * @sum: receives the sums
 *
 * Lockless and never blocks; writers may run concurrently, each CPU's slot
 * is copied as a consistent snapshot.
 */
void mutex_proxy_stats_sum(struct mutex_proxy_pcpu_stats __percpu *stats,
			   struct mutex_proxy_stats_sum *sum)
{
	u64 snap[MUTEX_PROXY_NR_STATS];
	unsigned int start, i;
	int cpu;

	memset(sum, 0, sizeof(*sum));

	for_each_possible_cpu(cpu) {
		const struct mutex_proxy_pcpu_stats *s = per_cpu_ptr(stats, cpu);

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < MUTEX_PROXY_NR_STATS; i++)
				snap[i] = u64_stats_read(&s->cnt[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));

		for (i = 0; i < MUTEX_PROXY_NR_STATS; i++)
			sum->cnt[i] += snap[i];
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_stats_sum);
