// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: the connection table.
 *
 * One entry (struct mutex_proxy_flow) per flow the module steered, in a
 * per-namespace rhashtable keyed by the flow's conntrack entry. Lookups are
 * RCU; entries come from a dedicated kmem_cache ("mutex_proxy_flow" in
 * /proc/slabinfo) and are freed by call_rcu() after they left the table.
 *
 * Insertion happens on the packet path, in the NAT function that steered
 * the flow (steer.c): GFP_ATOMIC, never sleeps; a failed allocation or
 * insertion is counted (alloc_fails) and the flow stays steered, untracked.
 * The table holds at most max_conns flows: past that a steered flow is not
 * tracked and table_full counts it (see MUTEX_PARAM_A_MAX_CONNS in the
 * UAPI header).
 *
 * A flow holds a reference on its conntrack entry, so the key can never be
 * reused by another connection while the flow exists. Flows leave the table
 * when their conntrack entry dies: a per-namespace worker (mutex_proxy_gc,
 * every MUTEX_PROXY_GC_INTERVAL while the table is not empty) removes flows
 * whose entry is dying (deleted from conntrack: conntrack -D/-F, reaped)
 * or expired (its timeout passed: closed and timed out, or idle), and flows
 * whose entry was never confirmed (its first packet was dropped after the
 * NAT decision). Then its reference is dropped, and conntrack frees the
 * entry.
 *
 * Removal (worker, FLUSH_FLOWS, namespace exit) is serialized by
 * mutex_proxy_net.flows_lock: the remover marks the flow dead, unlinks it,
 * lets every per-CPU cache and batch forget it (account.c) and frees it
 * after a grace period, with its conntrack and backend references.
 * table_evictions counts removals.
 */
#include <linux/jiffies.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>

#include "mutex_proxy.h"

#define MUTEX_PROXY_GC_INTERVAL	HZ
/* A flow whose conntrack entry is still unconfirmed after this long lost
 * its first packet: the entry will never be confirmed.
 */
#define MUTEX_PROXY_UNCONFIRMED_MAX	(5 * HZ)
/* Walks leave the RCU read section this often, to let others run. */
#define MUTEX_PROXY_WALK_BATCH	256

static const struct rhashtable_params mutex_proxy_flow_params = {
	.head_offset		= offsetof(struct mutex_proxy_flow, node),
	.key_offset		= offsetof(struct mutex_proxy_flow, ct),
	.key_len		= sizeof(struct nf_conn *),
	.automatic_shrinking	= true,
};

static struct kmem_cache *mutex_proxy_flow_cache __read_mostly;

/**
 * mutex_proxy_table_cache_init() - create the flows' kmem_cache
 *
 * Return: 0 or -ENOMEM.
 */
int mutex_proxy_table_cache_init(void)
{
	mutex_proxy_flow_cache =
		mutex_proxy_kmem_cache_create("mutex_proxy_flow",
					      sizeof(struct mutex_proxy_flow));
	return mutex_proxy_flow_cache ? 0 : -ENOMEM;
}

/**
 * mutex_proxy_table_cache_exit() - destroy the flows' kmem_cache
 *
 * Waits for the RCU callbacks that free flows first.
 */
void mutex_proxy_table_cache_exit(void)
{
	rcu_barrier();
	kmem_cache_destroy(mutex_proxy_flow_cache);
}

static void mutex_proxy_flow_free_rcu(struct rcu_head *head)
{
	struct mutex_proxy_flow *flow =
		container_of(head, struct mutex_proxy_flow, rcu);

	nf_ct_put(flow->ct);
	mutex_proxy_backend_ctr_put(flow->ctr);
	kmem_cache_free(mutex_proxy_flow_cache, flow);
}

/**
 * mutex_proxy_table_count() - number of flows in a namespace's table
 * @mpn: the namespace's state
 *
 * Return: the number of flows (approximate while flows come and go).
 */
u32 mutex_proxy_table_count(struct mutex_proxy_net *mpn)
{
	return atomic_read(&mpn->flows.nelems);
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_count);

/**
 * mutex_proxy_table_add() - track a flow just steered
 * @mpn: the namespace's state
 * @ct: its conntrack entry (the flow takes a reference)
 * @be: the backend it was steered to, or NULL (redirect to the rule's port)
 * @action: MUTEX_ACTION_REDIRECT or MUTEX_ACTION_DNAT
 *
 * Packet path, under RCU (which keeps @be's snapshot alive); never sleeps.
 * Failures are counted, never reported: the flow is steered either way.
 */
void mutex_proxy_table_add(struct mutex_proxy_net *mpn, struct nf_conn *ct,
			   struct mutex_proxy_backend *be, u8 action)
{
	struct mutex_proxy_flow *flow;
	int err;

	if (mutex_proxy_table_count(mpn) >=
	    mutex_proxy_param_get(MUTEX_PARAM_A_MAX_CONNS)) {
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_FULL, 1);
		return;
	}
	flow = kmem_cache_alloc(mutex_proxy_flow_cache, GFP_ATOMIC);
	if (!flow) {
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_ALLOC_FAILS, 1);
		return;
	}
	flow->ct = ct;
	flow->ctr = be ? be->ctr : NULL;
	atomic64_set(&flow->pkts[IP_CT_DIR_ORIGINAL], 0);
	atomic64_set(&flow->pkts[IP_CT_DIR_REPLY], 0);
	atomic64_set(&flow->bytes[IP_CT_DIR_ORIGINAL], 0);
	atomic64_set(&flow->bytes[IP_CT_DIR_REPLY], 0);
	flow->start = jiffies;
	flow->last = flow->start;
	flow->action = action;
	flow->dead = 0;
	if (flow->ctr) {
		/* The snapshot's reference keeps it above zero. */
		refcount_inc(&flow->ctr->ref);
		atomic64_inc(&flow->ctr->active);
	}

	err = rhashtable_lookup_insert_fast(&mpn->flows, &flow->node,
					    mutex_proxy_flow_params);
	if (err) {
		if (flow->ctr) {
			atomic64_dec(&flow->ctr->active);
			mutex_proxy_backend_ctr_put(flow->ctr);
		}
		kmem_cache_free(mutex_proxy_flow_cache, flow);
		if (err != -EEXIST)
			mutex_proxy_stats_add(mpn->stats,
					      MUTEX_STATS_A_ALLOC_FAILS, 1);
		return;
	}
	/* The skb holds a reference: this one cannot be the first. */
	nf_conntrack_get(&ct->ct_general);
	atomic_inc(&mpn->flows_seq);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_INSERTS, 1);
	if (!delayed_work_pending(&mpn->gc))
		schedule_delayed_work(&mpn->gc, MUTEX_PROXY_GC_INTERVAL);
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_add);

/**
 * mutex_proxy_table_lookup() - the flow of a conntrack entry
 * @mpn: the namespace's state
 * @ct: the conntrack entry
 *
 * Caller holds rcu_read_lock(); the flow stays valid until it drops it, but
 * may be dead (READ_ONCE(flow->dead)) already.
 *
 * Return: the flow, or NULL.
 */
struct mutex_proxy_flow *mutex_proxy_table_lookup(struct mutex_proxy_net *mpn,
						  const struct nf_conn *ct)
{
	return rhashtable_lookup(&mpn->flows, &ct, mutex_proxy_flow_params);
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_lookup);

/**
 * mutex_proxy_table_remove() - remove a flow from the table
 * @mpn: the namespace's state
 * @flow: the flow, found in @mpn's table under RCU
 *
 * Caller holds @mpn->flows_lock. Takes spinlocks with BH disabled, never
 * sleeps, so it may run inside an RCU read section (a table walk).
 *
 * Return: true if this call removed it, false if it was dead already.
 */
bool mutex_proxy_table_remove(struct mutex_proxy_net *mpn,
			      struct mutex_proxy_flow *flow)
{
	lockdep_assert_held(&mpn->flows_lock);

	if (flow->dead)
		return false;
	WRITE_ONCE(flow->dead, 1);
	rhashtable_remove_fast(&mpn->flows, &flow->node,
			       mutex_proxy_flow_params);
	atomic_inc(&mpn->flows_seq);
	/* After this no CPU holds the flow in its cache or batch, and no
	 * CPU will put it there again: they all see it dead.
	 */
	mutex_proxy_account_forget(flow);
	if (flow->ctr)
		atomic64_dec(&flow->ctr->active);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_EVICTIONS, 1);
	call_rcu(&flow->rcu, mutex_proxy_flow_free_rcu);
	return true;
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_remove);

typedef bool (*mutex_proxy_flow_pred)(const struct mutex_proxy_flow *flow);

/*
 * Remove every flow for which @pred holds (every flow if @pred is NULL).
 * Sleeps; takes flows_lock.
 */
static u64 mutex_proxy_table_sweep(struct mutex_proxy_net *mpn,
				   mutex_proxy_flow_pred pred)
{
	struct mutex_proxy_flow *flow;
	struct rhashtable_iter iter;
	unsigned int n = 0;
	u64 removed = 0;

	mutex_lock(&mpn->flows_lock);
	rhashtable_walk_enter(&mpn->flows, &iter);
	rhashtable_walk_start(&iter);
	for (;;) {
		flow = rhashtable_walk_next(&iter);
		if (IS_ERR(flow)) {
			if (PTR_ERR(flow) == -EAGAIN)
				continue;	/* resized under us: go on */
			break;
		}
		if (!flow)
			break;
		if (++n % MUTEX_PROXY_WALK_BATCH == 0) {
			/* Pause while @flow is still linked: the walk then
			 * resumes right after it. (Resuming after an entry
			 * that was removed would skip the entries behind it
			 * in its bucket.) Only removers free flows, and this
			 * one holds flows_lock: @flow stays valid.
			 */
			rhashtable_walk_stop(&iter);
			cond_resched();
			rhashtable_walk_start(&iter);
		}
		if ((!pred || pred(flow)) && mutex_proxy_table_remove(mpn, flow))
			removed++;
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	mutex_unlock(&mpn->flows_lock);
	return removed;
}

/**
 * mutex_proxy_table_flush() - remove every flow of a namespace
 * @mpn: the namespace's state
 *
 * The connections keep their NAT (conntrack is not touched); they are just
 * no longer tracked. Sleeps.
 *
 * Return: the number of flows removed.
 */
u64 mutex_proxy_table_flush(struct mutex_proxy_net *mpn)
{
	return mutex_proxy_table_sweep(mpn, NULL);
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_flush);

/*
 * The flow's conntrack entry is gone or as good as gone: deleted (dying),
 * timed out (conntrack reaps expired entries lazily, and a packet of the
 * same tuple would start a new entry), or never confirmed.
 */
static bool mutex_proxy_flow_gone(const struct mutex_proxy_flow *flow)
{
	const struct nf_conn *ct = flow->ct;

	if (nf_ct_is_dying(ct))
		return true;
	/* An unconfirmed entry's timeout is not a point in time yet. */
	if (nf_ct_is_confirmed(ct))
		return nf_ct_is_expired(ct);
	return time_after(jiffies, flow->start + MUTEX_PROXY_UNCONFIRMED_MAX);
}

/**
 * mutex_proxy_table_gc() - remove the flows whose conntrack entry died
 * @mpn: the namespace's state
 *
 * Run by the namespace's worker; KUnit calls it directly. Sleeps.
 */
void mutex_proxy_table_gc(struct mutex_proxy_net *mpn)
{
	mutex_proxy_table_sweep(mpn, mutex_proxy_flow_gone);
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_gc);

static void mutex_proxy_gc_work(struct work_struct *work)
{
	struct mutex_proxy_net *mpn =
		container_of(to_delayed_work(work), struct mutex_proxy_net, gc);

	mutex_proxy_table_gc(mpn);
	if (mutex_proxy_table_count(mpn))
		schedule_delayed_work(&mpn->gc, MUTEX_PROXY_GC_INTERVAL);
}

/**
 * mutex_proxy_table_init() - set up a namespace's connection table
 * @mpn: the namespace's state
 *
 * Sleeps. Return: 0 or a negative errno.
 */
int mutex_proxy_table_init(struct mutex_proxy_net *mpn)
{
	mutex_init(&mpn->flows_lock);
	atomic_set(&mpn->flows_seq, 0);
	INIT_DELAYED_WORK(&mpn->gc, mutex_proxy_gc_work);
	return rhashtable_init(&mpn->flows, &mutex_proxy_flow_params);
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_init);

/**
 * mutex_proxy_table_exit() - empty and destroy a namespace's table
 * @mpn: the namespace's state
 *
 * No flow may be added any more (the NAT functions are gone and a grace
 * period passed). The flows are freed by RCU callbacks: module exit waits
 * for them (mutex_proxy_table_cache_exit()). Sleeps.
 */
void mutex_proxy_table_exit(struct mutex_proxy_net *mpn)
{
	cancel_delayed_work_sync(&mpn->gc);
	mutex_proxy_table_flush(mpn);
	rhashtable_destroy(&mpn->flows);
}
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_table_exit);
