/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: run-time counters that outlive a configuration snapshot: a
 * backend's, shared by the snapshots that keep it and the flows steered to
 * it, and a rule's, shared by the snapshots that keep its name
 * (counters.c).
 */
#ifndef _MUTEX_PROXY_COUNTERS_H
#define _MUTEX_PROXY_COUNTERS_H

#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>

/**
 * struct mutex_proxy_backend_pcpu - one CPU's traffic counters of a backend
 * @pkts: packets of flows steered to the backend, per conntrack direction
 *	(IP_CT_DIR_ORIGINAL: client to backend, IP_CT_DIR_REPLY: back)
 * @bytes: their bytes, per direction
 * @syncp: makes 64-bit reads consistent on 32-bit kernels
 */
struct mutex_proxy_backend_pcpu {
	u64_stats_t pkts[2];
	u64_stats_t bytes[2];
	struct u64_stats_sync syncp;
};

/**
 * struct mutex_proxy_backend_ctr - run-time counters of one backend
 * @ref: one per configuration snapshot and per tracked flow that uses it
 * @active: flows steered to the backend that are in the connection table
 * @total: flows ever steered to the backend
 * @pcpu: per-CPU packet and byte counters (folded accounting batches)
 *
 * Not part of the immutable configuration: a replacement that keeps a
 * backend (same pool name, family, address, port) shares its counters, so
 * they survive any number of replacements. Freed when the last user drops
 * its reference, which for a snapshot is after its RCU grace period.
 */
struct mutex_proxy_backend_ctr {
	refcount_t ref;
	atomic64_t active;
	atomic64_t total;
	struct mutex_proxy_backend_pcpu __percpu *pcpu;
};

struct mutex_proxy_backend_ctr *mutex_proxy_backend_ctr_new(void);
void mutex_proxy_backend_ctr_put(struct mutex_proxy_backend_ctr *ctr);
void mutex_proxy_backend_ctr_sum(const struct mutex_proxy_backend_ctr *ctr,
				 u64 pkts[2], u64 bytes[2]);

/**
 * struct mutex_proxy_rule_pcpu - one CPU's counters of a rule
 * @matches: new flows the rule decided
 * @syncp: makes 64-bit reads consistent on 32-bit kernels
 */
struct mutex_proxy_rule_pcpu {
	u64_stats_t matches;
	struct u64_stats_sync syncp;
};

/**
 * struct mutex_proxy_rule_ctr - run-time counters of one rule
 * @ref: one per configuration snapshot that uses it
 * @pcpu: per-CPU counters
 *
 * A replacement that keeps a rule's name (the n-th rule of a name takes
 * the counters of the n-th rule of that name before) shares them; an
 * unnamed rule's start from zero with every replacement. Freed with the
 * last snapshot that uses them, after its RCU grace period.
 */
struct mutex_proxy_rule_ctr {
	refcount_t ref;
	struct mutex_proxy_rule_pcpu __percpu *pcpu;
};

struct mutex_proxy_rule_ctr *mutex_proxy_rule_ctr_new(void);
void mutex_proxy_rule_ctr_put(struct mutex_proxy_rule_ctr *ctr);
u64 mutex_proxy_rule_ctr_matches(const struct mutex_proxy_rule_ctr *ctr);

/**
 * mutex_proxy_rule_ctr_match() - count one new flow decided by a rule
 * @ctr: the rule's counters
 *
 * Any context, as mutex_proxy_stats_add().
 */
static inline void mutex_proxy_rule_ctr_match(struct mutex_proxy_rule_ctr *ctr)
{
	struct mutex_proxy_rule_pcpu *c;
	unsigned long flags;

	c = get_cpu_ptr(ctr->pcpu);
	flags = u64_stats_update_begin_irqsave(&c->syncp);
	u64_stats_inc(&c->matches);
	u64_stats_update_end_irqrestore(&c->syncp, flags);
	put_cpu_ptr(ctr->pcpu);
}

#endif /* _MUTEX_PROXY_COUNTERS_H */
