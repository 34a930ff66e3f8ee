/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the state of one network namespace (net.c).
 */
#ifndef _MUTEX_PROXY_NET_H
#define _MUTEX_PROXY_NET_H

#include <linux/atomic.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

struct mutex_proxy_config;
struct mutex_proxy_event_batch;
struct mutex_proxy_pcpu_stats;
struct netlink_ext_ack;

/**
 * struct mutex_proxy_net - state of one network namespace
 * @net: the namespace (which outlives this state)
 * @stats: per-CPU counters; valid from init until exit
 * @config: current configuration, or NULL (none yet); RCU
 * @config_lock: serializes configuration writers
 * @generation: generation of @config (0 before the first one), under
 *	@config_lock
 * @hooks_ipv4: the IPv4 hooks are registered in this namespace
 * @hooks_ipv6: the IPv6 hooks are registered in this namespace
 * @steer_ipv4: the IPv4 NAT functions are registered (and conntrack held)
 * @steer_ipv6: the IPv6 NAT functions are registered (and conntrack held)
 * @flows: the connection table, struct mutex_proxy_flow keyed by conntrack
 *	entry
 * @flows_lock: serializes removals from @flows (insertions need no lock)
 * @dead: flows removed from @flows that CPUs may still hold in their caches
 *	and batches; released and freed before @flows_lock is dropped
 * @ndead: how many are on @dead; under @flows_lock
 * @gc: periodic removal of flows whose conntrack entry died
 * @gc_iter: where the collector goes on in @flows at its next run; under
 *	@flows_lock
 * @evict: set when a flow found the table full; the collector then evicts
 *	unreplied flows
 * @active: the datapath (hooks, NAT functions, conntrack) is on: the
 *	configuration has a rule; under @config_lock
 * @adopted: the connections steered before the module's load were looked
 *	for (by the first configuration with a rule); under @config_lock
 * @labels: conntrack labels are enabled (nf_connlabels_get()) for this
 *	namespace
 * @events: per-CPU batches of flow events (events.c)
 * @events_flush: sends the batches MUTEX_EVENT_FLUSH_MS after their first
 *	event
 */
struct mutex_proxy_net {
	struct net *net;
	struct mutex_proxy_pcpu_stats __percpu *stats;
	struct mutex_proxy_config __rcu *config;
	struct mutex config_lock;	/* serializes configuration writers */
	u64 generation;
	bool hooks_ipv4;
	bool hooks_ipv6;
	bool steer_ipv4;
	bool steer_ipv6;
	struct rhashtable flows;
	struct mutex flows_lock;	/* serializes removals from flows */
	struct llist_head dead;
	unsigned long ndead;
	struct delayed_work gc;
	struct rhashtable_iter gc_iter;
	atomic_t evict;
	bool active;
	bool adopted;
	bool labels;
	struct mutex_proxy_event_batch __percpu *events;
	struct delayed_work events_flush;
};

extern unsigned int mutex_proxy_net_id;

static inline struct mutex_proxy_net *mutex_proxy_pernet(const struct net *net)
{
	return net_generic(net, mutex_proxy_net_id);
}

#if IS_ENABLED(CONFIG_KUNIT)
int mutex_proxy_net_activate(struct mutex_proxy_net *mpn);
void mutex_proxy_net_deactivate(struct mutex_proxy_net *mpn);
#endif
int mutex_proxy_net_set_config(struct mutex_proxy_net *mpn,
			       struct mutex_proxy_config *cfg, u64 had,
			       struct netlink_ext_ack *extack);

int mutex_proxy_net_state_init(struct mutex_proxy_net *mpn, struct net *net);
void mutex_proxy_net_state_exit(struct mutex_proxy_net *mpn);
int mutex_proxy_net_register(void);
void mutex_proxy_net_unregister(void);

#endif /* _MUTEX_PROXY_NET_H */
