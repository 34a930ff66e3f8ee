// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: run-time counters of backends and rules.
 *
 * Not configuration: a snapshot that keeps a backend (same pool name,
 * family, address, port) shares the counters of the one before, and every
 * tracked flow steered to the backend holds a reference too, so counts
 * survive replacements and outlive the snapshot that created them. Flows
 * add to the active and total counts when they are tracked and removed
 * (table.c); their packets and bytes reach the per-CPU counters in
 * batches (account.c).
 */
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/slab.h>

#include "counters.h"
#include "mutex_proxy.h"
#include "compat.h"

/**
 * mutex_proxy_backend_ctr_new() - counters for a backend new to its pool
 *
 * Sleeps; charged to the caller's memory cgroup (MUTEX_PROXY_GFP_CONFIG).
 *
 * Return: zeroed counters holding one reference, or NULL.
 */
struct mutex_proxy_backend_ctr *mutex_proxy_backend_ctr_new(void)
{
	struct mutex_proxy_backend_ctr *ctr;
	int cpu;

	ctr = kzalloc(sizeof(*ctr), MUTEX_PROXY_GFP_CONFIG);
	if (!ctr)
		return NULL;
	ctr->pcpu = alloc_percpu_gfp(struct mutex_proxy_backend_pcpu,
				     MUTEX_PROXY_GFP_CONFIG);
	if (!ctr->pcpu) {
		kfree(ctr);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(ctr->pcpu, cpu)->syncp);
	refcount_set(&ctr->ref, 1);
	return ctr;
}

/**
 * mutex_proxy_backend_ctr_put() - drop a reference to backend counters
 * @ctr: the counters, or NULL
 *
 * The last reference frees them. Callers drop their reference only once no
 * reader can reach @ctr through them (after an RCU grace period for a
 * snapshot or a flow). Any context.
 */
void mutex_proxy_backend_ctr_put(struct mutex_proxy_backend_ctr *ctr)
{
	if (ctr && refcount_dec_and_test(&ctr->ref)) {
		free_percpu(ctr->pcpu);
		kfree(ctr);
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_backend_ctr_put);

/**
 * mutex_proxy_backend_ctr_sum() - a backend's packets and bytes, all CPUs
 * @ctr: the counters
 * @pkts: receives the packets per direction (enum ip_conntrack_dir)
 * @bytes: receives the bytes per direction
 *
 * Lockless; batches not folded yet are not included (callers fold them
 * first with mutex_proxy_account_flush_all()).
 */
void mutex_proxy_backend_ctr_sum(const struct mutex_proxy_backend_ctr *ctr,
				 u64 pkts[2], u64 bytes[2])
{
	unsigned int start;
	u64 p[2], b[2];
	int cpu, dir;

	for (dir = 0; dir < 2; dir++) {
		pkts[dir] = 0;
		bytes[dir] = 0;
	}
	for_each_possible_cpu(cpu) {
		const struct mutex_proxy_backend_pcpu *c =
			per_cpu_ptr(ctr->pcpu, cpu);

		do {
			start = u64_stats_fetch_begin(&c->syncp);
			for (dir = 0; dir < 2; dir++) {
				p[dir] = u64_stats_read(&c->pkts[dir]);
				b[dir] = u64_stats_read(&c->bytes[dir]);
			}
		} while (u64_stats_fetch_retry(&c->syncp, start));
		for (dir = 0; dir < 2; dir++) {
			pkts[dir] += p[dir];
			bytes[dir] += b[dir];
		}
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_backend_ctr_sum);

/**
 * mutex_proxy_rule_ctr_new() - counters for a rule new to the configuration
 *
 * Sleeps; charged to the caller's memory cgroup (MUTEX_PROXY_GFP_CONFIG).
 *
 * Return: zeroed counters holding one reference, or NULL.
 */
struct mutex_proxy_rule_ctr *mutex_proxy_rule_ctr_new(void)
{
	struct mutex_proxy_rule_ctr *ctr;
	int cpu;

	ctr = kzalloc(sizeof(*ctr), MUTEX_PROXY_GFP_CONFIG);
	if (!ctr)
		return NULL;
	ctr->pcpu = alloc_percpu_gfp(struct mutex_proxy_rule_pcpu,
				     MUTEX_PROXY_GFP_CONFIG);
	if (!ctr->pcpu) {
		kfree(ctr);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(ctr->pcpu, cpu)->syncp);
	refcount_set(&ctr->ref, 1);
	return ctr;
}

/**
 * mutex_proxy_rule_ctr_put() - drop a reference to rule counters
 * @ctr: the counters, or NULL
 *
 * The last reference frees them; a snapshot drops its references only
 * after its RCU grace period. Any context.
 */
void mutex_proxy_rule_ctr_put(struct mutex_proxy_rule_ctr *ctr)
{
	if (ctr && refcount_dec_and_test(&ctr->ref)) {
		free_percpu(ctr->pcpu);
		kfree(ctr);
	}
}

/**
 * mutex_proxy_rule_ctr_matches() - a rule's matches, all CPUs
 * @ctr: the counters
 *
 * Lockless.
 *
 * Return: the new flows the rule decided.
 */
u64 mutex_proxy_rule_ctr_matches(const struct mutex_proxy_rule_ctr *ctr)
{
	unsigned int start;
	u64 sum = 0, n;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct mutex_proxy_rule_pcpu *c =
			per_cpu_ptr(ctr->pcpu, cpu);

		do {
			start = u64_stats_fetch_begin(&c->syncp);
			n = u64_stats_read(&c->matches);
		} while (u64_stats_fetch_retry(&c->syncp, start));
		sum += n;
	}
	return sum;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_rule_ctr_matches);
