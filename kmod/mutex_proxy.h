/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: internal interfaces shared by the files of the module (and by
 * the KUnit module, through symbols exported only when the kernel has KUnit).
 *
 * Lifetimes
 *   - Module parameters are module-wide (params.c), serialized by one mutex,
 *     read locklessly with READ_ONCE().
 *   - Everything else is per network namespace (struct mutex_proxy_net,
 *     owned by the pernet_operations in main.c): created in the namespace's
 *     init, hooks removed in pre_exit, freed in exit after the RCU grace
 *     period the core runs between the two.
 */
#ifndef _MUTEX_PROXY_H
#define _MUTEX_PROXY_H

#include <linux/mutex_proxy.h>
#include <linux/percpu.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "compat.h"

#define MUTEX_PROXY_VERSION	"0.1.0"

/* ---- parameters (params.c) ---- */

/**
 * struct mutex_proxy_params - a copy of all module parameters
 * @val: value of each parameter, indexed by enum mutex_param_attr
 *	(index MUTEX_PARAM_A_UNSPEC is unused)
 */
struct mutex_proxy_params {
	u32 val[MUTEX_PARAM_A_MAX + 1];
};

/**
 * struct mutex_proxy_param_update - a set of parameter changes
 * @mask: BIT(id) for every parameter id to change
 * @val: new values, indexed by enum mutex_param_attr
 */
struct mutex_proxy_param_update {
	u32 mask;
	u32 val[MUTEX_PARAM_A_MAX + 1];
};

const char *mutex_proxy_param_name(enum mutex_param_attr id);
int mutex_proxy_param_validate(enum mutex_param_attr id, u32 val,
			       const char **msg);
int mutex_proxy_param_parse(enum mutex_param_attr id, const char *str,
			    u32 *val, const char **msg);
int mutex_proxy_params_update(const struct mutex_proxy_param_update *upd,
			      struct mutex_proxy_params *now,
			      enum mutex_param_attr *bad, const char **msg);
int mutex_proxy_param_set(enum mutex_param_attr id, u32 val,
			  const char **msg);
u32 mutex_proxy_param_get(enum mutex_param_attr id);
void mutex_proxy_params_get(struct mutex_proxy_params *out);

/* ---- statistics (stats.c) ---- */

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

/* ---- per network namespace state (main.c) ---- */

/**
 * struct mutex_proxy_net - state of one network namespace
 * @stats: per-CPU counters; valid from init until exit
 * @hooks_ipv4: the IPv4 hooks are registered in this namespace
 * @hooks_ipv6: the IPv6 hooks are registered in this namespace
 */
struct mutex_proxy_net {
	struct mutex_proxy_pcpu_stats __percpu *stats;
	bool hooks_ipv4;
	bool hooks_ipv6;
};

extern unsigned int mutex_proxy_net_id;

static inline struct mutex_proxy_net *mutex_proxy_pernet(const struct net *net)
{
	return net_generic(net, mutex_proxy_net_id);
}

/* ---- netfilter hooks (hooks.c) ---- */

int mutex_proxy_hooks_register(struct net *net, struct mutex_proxy_net *mpn);
void mutex_proxy_hooks_unregister(struct net *net, struct mutex_proxy_net *mpn);

/* ---- /proc/net/mutex_proxy (proc.c) ---- */

int mutex_proxy_proc_init(struct net *net);
void mutex_proxy_proc_exit(struct net *net);

/* ---- generic netlink (netlink.c) ---- */

int mutex_proxy_genl_register(void);
void mutex_proxy_genl_unregister(void);

#endif /* _MUTEX_PROXY_H */
