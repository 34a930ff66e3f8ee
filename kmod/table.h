/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the connection table of steered flows (table.c).
 */
#ifndef _MUTEX_PROXY_TABLE_H
#define _MUTEX_PROXY_TABLE_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/llist.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable-types.h>
#include <linux/types.h>

struct kmem_cache;
struct mutex_proxy_backend;
struct mutex_proxy_backend_ctr;
struct mutex_proxy_config;
struct mutex_proxy_pool;
struct mutex_proxy_net;
struct nf_conn;

/**
 * enum mutex_proxy_flow_flag - bits of &struct mutex_proxy_flow.flags
 * @MUTEX_PROXY_FLOW_TRACKED: the flow's conntrack entry was confirmed and
 *	the flow holds a reference on it; set once
 * @MUTEX_PROXY_FLOW_DEAD: the flow is being removed; set once, by the
 *	remover (test_and_set_bit() decides between concurrent removers)
 */
enum mutex_proxy_flow_flag {
	MUTEX_PROXY_FLOW_TRACKED,
	MUTEX_PROXY_FLOW_DEAD,
};

/**
 * struct mutex_proxy_flow - one steered flow in the connection table
 * @node: rhashtable linkage
 * @ct: the flow's conntrack entry, the key. Until the entry is confirmed
 *	(pending: MUTEX_PROXY_FLOW_TRACKED clear) the flow holds no reference
 *	and nobody but the entry's own packet may write @ct or take a
 *	reference on it: the entry may be freed with its first packet (its
 *	memory stays an nf_conn under RCU: mutex_proxy_table_resolve() reads
 *	its tuple as a lookup key). Once tracked, the flow holds a reference,
 *	so the pointer is never reused while the flow exists.
 *	Never exported.
 * @mpn: the namespace state whose table holds the flow (its counters get
 *	the flow's packets)
 * @ctr: counters of the backend the flow was steered to (a reference),
 *	or NULL (redirect to a port of the rule)
 * @pkts: packets per direction (IP_CT_DIR_ORIGINAL, IP_CT_DIR_REPLY)
 * @bytes: bytes per direction
 * @start: jiffies when the flow was steered
 * @last: jiffies of the last accounted packet (@start before any)
 * @action: enum mutex_action (REDIRECT or DNAT)
 * @flags: enum mutex_proxy_flow_flag bits
 * @dead: once removed, its link in the namespace's list of dead flows
 *	(mutex_proxy_net.dead) until every CPU let go of it
 * @rcu: then, for freeing after a grace period
 *
 * Allocated from the module's kmem_cache on the packet path (GFP_ATOMIC),
 * freed by an RCU callback after it left the table and every per-CPU cache
 * and batch (account.c) let go of it. A pending flow is never in a cache or
 * a batch.
 */
struct mutex_proxy_flow {
	struct rhash_head node;
	struct nf_conn *ct;
	struct mutex_proxy_net *mpn;
	struct mutex_proxy_backend_ctr *ctr;
	atomic64_t pkts[2];
	atomic64_t bytes[2];
	unsigned long start;
	unsigned long last;
	unsigned long flags;
	u8 action;
	union {
		struct llist_node dead;
		struct rcu_head rcu;
	};
};

static inline bool mutex_proxy_flow_dead(const struct mutex_proxy_flow *flow)
{
	return test_bit(MUTEX_PROXY_FLOW_DEAD, &flow->flags);
}

static inline bool mutex_proxy_flow_tracked(const struct mutex_proxy_flow *flow)
{
	return test_bit(MUTEX_PROXY_FLOW_TRACKED, &flow->flags);
}

u64 mutex_proxy_table_end_flows(struct mutex_proxy_net *mpn,
				const struct mutex_proxy_pool *pool,
				const struct mutex_proxy_backend *be, u8 proto);
u64 mutex_proxy_table_adopt(struct mutex_proxy_net *mpn,
			    const struct mutex_proxy_config *cfg);
int mutex_proxy_table_cache_init(void);
void mutex_proxy_table_cache_exit(void);
#ifdef MUTEX_PROXY_BENCH
struct kmem_cache *mutex_proxy_table_flow_slab(void);
#endif
int mutex_proxy_table_init(struct mutex_proxy_net *mpn);
void mutex_proxy_table_exit(struct mutex_proxy_net *mpn);
void mutex_proxy_table_add(struct mutex_proxy_net *mpn, struct nf_conn *ct,
			   struct mutex_proxy_backend *be, u8 action);
void mutex_proxy_table_track(struct mutex_proxy_flow *flow, struct nf_conn *ct);
bool mutex_proxy_table_resolve(struct mutex_proxy_net *mpn,
			       struct mutex_proxy_flow *flow);
struct mutex_proxy_flow *mutex_proxy_table_lookup(struct mutex_proxy_net *mpn,
						  const struct nf_conn *ct);
#if IS_ENABLED(CONFIG_KUNIT)
bool mutex_proxy_table_remove(struct mutex_proxy_net *mpn,
			      struct mutex_proxy_flow *flow);
#endif
u64 mutex_proxy_table_flush(struct mutex_proxy_net *mpn);

/**
 * struct mutex_proxy_table_cursor - a walk over the flows of a namespace
 *	that goes on across calls (a dump)
 * @mpn: the namespace's state
 * @iter: the table's walker
 * @breaks: times the walk may have missed or repeated a flow that stayed
 * @visited: a flow was handed out already
 * @done: the walk reached the end of the table
 */
struct mutex_proxy_table_cursor {
	struct mutex_proxy_net *mpn;
	struct rhashtable_iter *iter;
	u32 breaks;
	bool visited;
	bool done;
};

int mutex_proxy_table_cursor_start(struct mutex_proxy_net *mpn,
				   struct mutex_proxy_table_cursor *cur);
int mutex_proxy_table_cursor_next(struct mutex_proxy_table_cursor *cur,
				  int (*visit)(void *arg,
					       struct mutex_proxy_flow *flow),
				  void *arg);
void mutex_proxy_table_cursor_end(struct mutex_proxy_table_cursor *cur);
u32 mutex_proxy_table_count(struct mutex_proxy_net *mpn);
#if IS_ENABLED(CONFIG_KUNIT)
void mutex_proxy_table_reap(struct mutex_proxy_net *mpn);
#endif

/**
 * struct mutex_proxy_gc_run - what one run of the collector did
 * @examined: flows it looked at
 * @removed: flows it removed
 * @pass_done: it reached the end of the table (the next run starts anew)
 */
struct mutex_proxy_gc_run {
	u32 examined;
	u32 removed;
	bool pass_done;
};

#if IS_ENABLED(CONFIG_KUNIT)
void mutex_proxy_table_gc(struct mutex_proxy_net *mpn,
			  struct mutex_proxy_gc_run *run);
unsigned long mutex_proxy_gc_delay(const struct mutex_proxy_gc_run *run);
#endif

#endif /* _MUTEX_PROXY_TABLE_H */
