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
 * UAPI header), and the collector is asked to make room by evicting flows
 * that never saw a reply, as conntrack's early drop does.
 *
 * A flow is inserted pending: its conntrack entry is not confirmed yet and
 * belongs to its first packet alone (nfnetlink_queue drops such a packet
 * and br_netfilter warns when the entry has another reference), so the
 * flow takes no reference and nobody writes its entry or takes a reference
 * on it but that packet; the entry may even be freed with the packet.
 * The first packet is counted straight into the pending flow. The first
 * packet seen after confirmation, a GET_ORIGDST, or a dump or the collector
 * finding the entry in conntrack's hash (mutex_proxy_table_resolve(), which
 * holds confirmed entries only) makes it tracked (mutex_proxy_table_track()):
 * from then on the flow holds a reference on its entry, so the key can never be
 * reused by another connection while the flow exists. A pending flow whose
 * packet was dropped before confirmation is found stale by the collector after
 * MUTEX_PROXY_UNCONFIRMED_MAX, or replaced by the next decision for a new entry
 * at the same address (the entry was freed and its memory reused): a pending
 * flow always holds the latest decision for its key.
 *
 * Flows leave the table when their conntrack entry dies: a per-namespace
 * collector (mutex_proxy_gc on system_long_wq, while the table is not empty)
 * removes tracked flows whose entry is dying (deleted from conntrack:
 * conntrack -D/-F, reaped) or expired (its timeout passed: closed and timed
 * out, or idle), and stale pending flows. Then its reference is dropped, and
 * conntrack frees the entry. The collector never walks the whole table at
 * once: each run goes on where the last one stopped and looks at a share of
 * the table (mutex_proxy_gc_quota(): a pass over the table takes at least
 * MUTEX_PROXY_GC_PASS runs, small tables are looked at whole), once a
 * second, sooner while many of the flows it meets have ended. Past
 * MUTEX_PROXY_GC_MIN_SCAN flows a run also stops after MUTEX_PROXY_GC_RUN_NS:
 * the idle cost of a large table is bounded on any machine (a
 * pass then takes longer: about 250 s for a million flows on the benchmark's
 * emulated CPU, the 32 s floor on a real one). A full table asking for room
 * (max_conns) is looked at whole, without that bound.
 *
 * Removal (collector, FLUSH_FLOWS, namespace exit) is serialized by
 * mutex_proxy_net.flows_lock; MUTEX_PROXY_FLOW_DEAD, set with
 * test_and_set_bit(), decides between it and the packet path replacing a
 * stale pending flow. The remover unlinks the flow and puts it on the
 * namespace's list of dead flows; before it drops flows_lock it reaps the
 * list (mutex_proxy_table_reap()): one visit of every CPU lets every per-CPU
 * cache and batch go of all of them (account.c), then each is freed after a
 * grace period, with its conntrack and backend references. Removing a flow
 * thus costs the same however many CPUs there are; the per-CPU visit is paid
 * once per batch of removals. table_evictions counts removals.
 */
#include <linux/jiffies.h>
#include <linux/llist.h>
#include <linux/rhashtable.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_labels.h>
#include <net/netfilter/nf_conntrack_zones.h>

#include "account.h"
#include "counters.h"
#include "config.h"
#include "events.h"
#include "net.h"
#include "params.h"
#include "stats.h"
#include "steer.h"
#include "table.h"
#include "compat.h"

#define MUTEX_PROXY_GC_INTERVAL	HZ
/* The next run comes this soon when at least a quarter of the flows a run
 * looked at had ended (a burst of connections closing).
 */
#define MUTEX_PROXY_GC_BUSY_INTERVAL	(HZ / 8)
/* A pass over the whole table takes this many runs, at least... */
#define MUTEX_PROXY_GC_PASS	32
/* ...a run looks at this many flows at least (small tables: all)... */
#define MUTEX_PROXY_GC_MIN_SCAN	1024
/* ...and past those, stops after this long: at most 0.4% of a CPU at one run
 * a second, however slow the machine (a pass then takes longer).
 */
#define MUTEX_PROXY_GC_RUN_NS	(4 * NSEC_PER_MSEC)
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

#ifdef MUTEX_PROXY_BENCH
/* The flows' kmem_cache, for the benchmark build's allocation runs. */
struct kmem_cache *mutex_proxy_table_flow_slab(void)
{
	return mutex_proxy_flow_cache;
}
#endif

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

	if (mutex_proxy_flow_tracked(flow))
		nf_ct_put(flow->ct);
	mutex_proxy_backend_ctr_put(flow->ctr);
	kmem_cache_free(mutex_proxy_flow_cache, flow);
}

/* Free a flow that was never published. */
static void mutex_proxy_flow_free(struct mutex_proxy_flow *flow)
{
	if (flow->ctr) {
		atomic64_dec(&flow->ctr->active);
		mutex_proxy_backend_ctr_put(flow->ctr);
	}
	kmem_cache_free(mutex_proxy_flow_cache, flow);
}

/*
 * A new flow for @ct, not published yet: it holds a reference on @ctr (a
 * backend's counters of a live snapshot, or NULL) and counts in its active
 * flows. Any context. Return: the flow, or NULL.
 */
static struct mutex_proxy_flow *
mutex_proxy_flow_alloc(struct mutex_proxy_net *mpn, struct nf_conn *ct,
		       struct mutex_proxy_backend_ctr *ctr, u8 action)
{
	struct mutex_proxy_flow *flow;

	flow = kmem_cache_alloc(mutex_proxy_flow_cache, GFP_ATOMIC);
	if (!flow)
		return NULL;
	flow->ct = ct;
	flow->mpn = mpn;
	flow->ctr = ctr;
	atomic64_set(&flow->pkts[IP_CT_DIR_ORIGINAL], 0);
	atomic64_set(&flow->pkts[IP_CT_DIR_REPLY], 0);
	atomic64_set(&flow->bytes[IP_CT_DIR_ORIGINAL], 0);
	atomic64_set(&flow->bytes[IP_CT_DIR_REPLY], 0);
	flow->start = jiffies;
	flow->last = flow->start;
	flow->action = action;
	flow->flags = 0;
	if (ctr) {
		/* The snapshot's reference keeps it above zero. */
		refcount_inc(&ctr->ref);
		atomic64_inc(&ctr->active);
	}
	return flow;
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
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_count);

/*
 * The table is full: count it and have the collector make room now. A
 * pending eviction request is not queued twice.
 */
static void mutex_proxy_table_full(struct mutex_proxy_net *mpn)
{
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_FULL, 1);
	if (!atomic_xchg(&mpn->evict, 1))
		mod_delayed_work(system_long_wq, &mpn->gc, 0);
}

/* The table has flows: have the collector run within its interval. */
static void mutex_proxy_table_gc_soon(struct mutex_proxy_net *mpn)
{
	if (!delayed_work_pending(&mpn->gc))
		queue_delayed_work(system_long_wq, &mpn->gc,
				   MUTEX_PROXY_GC_INTERVAL);
}

/*
 * Replace the stale pending flow @old (its entry was freed unconfirmed and
 * its memory reused for the entry @flow was decided for) by @flow, or
 * remove it when @flow is NULL. Packet path. Return: 0, or -EAGAIN if the
 * collector is removing @old.
 */
static int mutex_proxy_table_replace(struct mutex_proxy_net *mpn,
				     struct mutex_proxy_flow *old,
				     struct mutex_proxy_flow *flow)
{
	int err;

	/* A tracked flow holds its entry: the address cannot be reused. */
	if (WARN_ON_ONCE(mutex_proxy_flow_tracked(old)))
		return -EEXIST;
	if (test_and_set_bit(MUTEX_PROXY_FLOW_DEAD, &old->flags))
		return -EAGAIN;
	if (flow)
		err = rhashtable_replace_fast(&mpn->flows, &old->node,
					      &flow->node,
					      mutex_proxy_flow_params);
	else
		err = rhashtable_remove_fast(&mpn->flows, &old->node,
					     mutex_proxy_flow_params);
	/* Only the holder of DEAD unlinks: @old is still linked. */
	WARN_ON_ONCE(err);
	/* Never tracked, so never in a per-CPU cache or batch. */
	if (old->ctr)
		atomic64_dec(&old->ctr->active);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_EVICTIONS, 1);
	call_rcu(&old->rcu, mutex_proxy_flow_free_rcu);
	return 0;
}

/* Forget a stale pending flow for @ct, if there is one. Packet path. */
static void mutex_proxy_table_drop_stale(struct mutex_proxy_net *mpn,
					 const struct nf_conn *ct)
{
	struct mutex_proxy_flow *old = mutex_proxy_table_lookup(mpn, ct);

	if (old && !mutex_proxy_flow_dead(old))
		mutex_proxy_table_replace(mpn, old, NULL);
}

/**
 * mutex_proxy_table_add() - record the decision for a flow just steered
 * @mpn: the namespace's state
 * @ct: its conntrack entry, not confirmed yet; no reference is taken
 * @be: the backend it was steered to, or NULL (redirect to the rule's port)
 * @action: MUTEX_ACTION_REDIRECT or MUTEX_ACTION_DNAT
 *
 * The flow is inserted pending (see the top of this file). Packet path,
 * under RCU (which keeps @be's snapshot alive); never sleeps. Failures are
 * counted, never reported: the flow is steered either way.
 */
void mutex_proxy_table_add(struct mutex_proxy_net *mpn, struct nf_conn *ct,
			   struct mutex_proxy_backend *be, u8 action)
{
	struct mutex_proxy_flow *flow, *old;
	int tries = 3;

	if (mutex_proxy_table_count(mpn) >=
	    mutex_proxy_param_get(MUTEX_PARAM_A_MAX_CONNS)) {
		mutex_proxy_table_drop_stale(mpn, ct);
		mutex_proxy_table_full(mpn);
		return;
	}
	flow = mutex_proxy_flow_alloc(mpn, ct, be ? be->ctr : NULL, action);
	if (!flow) {
		mutex_proxy_table_drop_stale(mpn, ct);
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_ALLOC_FAILS, 1);
		return;
	}

	for (;;) {
		old = rhashtable_lookup_get_insert_fast(&mpn->flows,
							&flow->node,
							mutex_proxy_flow_params);
		if (!old)
			break;
		if (IS_ERR(old) ||
		    mutex_proxy_table_replace(mpn, old, flow) != -EAGAIN)
			break;
		/* The collector is removing the stale flow: insert again. */
		if (!--tries) {
			old = ERR_PTR(-EBUSY);
			break;
		}
	}
	if (IS_ERR(old)) {
		mutex_proxy_flow_free(flow);
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_ALLOC_FAILS, 1);
		return;
	}
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_INSERTS, 1);
	mutex_proxy_table_gc_soon(mpn);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_add);

/**
 * mutex_proxy_table_track() - a pending flow's entry is confirmed: hold it
 * @flow: the flow, found for @ct in the table under RCU
 * @ct: its conntrack entry, confirmed, and referenced by the caller (the
 *	packet, or a lookup)
 *
 * Idempotent; any context. After this the flow holds a reference on @ct.
 */
void mutex_proxy_table_track(struct mutex_proxy_flow *flow, struct nf_conn *ct)
{
	if (test_and_set_bit(MUTEX_PROXY_FLOW_TRACKED, &flow->flags))
		return;
	nf_conntrack_get(&ct->ct_general);
	mutex_proxy_event_flow(flow->mpn, MUTEX_EVENT_FLOW_START, flow);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_track);

/**
 * mutex_proxy_table_resolve() - make a pending flow tracked if its entry
 *	was confirmed meanwhile
 * @mpn: the namespace's state
 * @flow: a flow of @mpn's table, found under RCU
 *
 * Looks the entry's original tuple up in conntrack's hash (confirmed entries
 * only): its entry is the one found there if that is the flow's entry
 * (the same address), is ours (labelled) and the table still holds @flow for
 * it (not replaced by a newer decision). Caller holds rcu_read_lock(); any
 * context.
 *
 * Return: whether @flow is tracked now.
 */
bool mutex_proxy_table_resolve(struct mutex_proxy_net *mpn,
			       struct mutex_proxy_flow *flow)
{
	struct nf_conntrack_tuple_hash *h;
	struct nf_conntrack_tuple tuple;
	struct nf_conntrack_zone zone;
	struct nf_conn *ct;

	if (mutex_proxy_flow_tracked(flow))
		return true;
	if (mutex_proxy_flow_dead(flow))
		return false;
	/* The entry may have been freed with its first packet and its memory
	 * reused, even for an entry being set up right now: conntrack's cache
	 * is SLAB_TYPESAFE_BY_RCU, so under RCU it is an nf_conn still, with
	 * whatever contents. Its tuple and zone are only a key here (read
	 * once, as conntrack's own lookups read entries that may be reused):
	 * the lookup takes a reference on confirmed entries only, and what it
	 * finds is checked against the flow below. No reference is ever taken
	 * on the entry itself before that.
	 */
	ct = flow->ct;
	memcpy(&tuple, &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, sizeof(tuple));
	zone = *nf_ct_zone(ct);
	h = nf_conntrack_find_get(mpn->net, &zone, &tuple);
	if (!h)
		return false;
	ct = nf_ct_tuplehash_to_ctrack(h);
	if (ct == flow->ct && NF_CT_DIRECTION(h) == IP_CT_DIR_ORIGINAL &&
	    mutex_proxy_ct_steered(ct) &&
	    mutex_proxy_table_lookup(mpn, ct) == flow)
		mutex_proxy_table_track(flow, ct);
	nf_ct_put(ct);
	return mutex_proxy_flow_tracked(flow);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_resolve);

/**
 * mutex_proxy_table_lookup() - the flow of a conntrack entry
 * @mpn: the namespace's state
 * @ct: the conntrack entry
 *
 * Caller holds rcu_read_lock(); the flow stays valid until it drops it, but
 * may be dead (mutex_proxy_flow_dead()) or pending
 * (!mutex_proxy_flow_tracked()) already.
 *
 * Return: the flow, or NULL.
 */
struct mutex_proxy_flow *mutex_proxy_table_lookup(struct mutex_proxy_net *mpn,
						  const struct nf_conn *ct)
{
	return rhashtable_lookup(&mpn->flows, &ct, mutex_proxy_flow_params);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_lookup);

/**
 * mutex_proxy_table_remove() - remove a flow from the table
 * @mpn: the namespace's state
 * @flow: the flow, found in @mpn's table under RCU
 *
 * The flow is unlinked and put on @mpn's list of dead flows: per-CPU caches
 * and batches may still hold it until the caller reaps the list
 * (mutex_proxy_table_reap()) before it drops flows_lock. Caller holds
 * @mpn->flows_lock. Never sleeps, takes no lock: it may run inside an RCU
 * read section (a table walk).
 *
 * Return: true if this call removed it, false if it was dead already.
 */
VISIBLE_IF_KUNIT
bool mutex_proxy_table_remove(struct mutex_proxy_net *mpn,
			      struct mutex_proxy_flow *flow)
{
	lockdep_assert_held(&mpn->flows_lock);

	/* After this no CPU puts the flow into its cache or batch: they all
	 * see it dead. (A pending flow may become tracked while it is
	 * removed: it is reaped either way.)
	 */
	if (test_and_set_bit(MUTEX_PROXY_FLOW_DEAD, &flow->flags))
		return false;
	rhashtable_remove_fast(&mpn->flows, &flow->node,
			       mutex_proxy_flow_params);
	if (flow->ctr)
		atomic64_dec(&flow->ctr->active);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_EVICTIONS, 1);
	llist_add(&flow->dead, &mpn->dead);
	mpn->ndead++;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_remove);

/**
 * mutex_proxy_table_reap() - free the flows removed from a table
 * @mpn: the namespace's state
 *
 * Lets every CPU's cache and batch go of the dead flows (one visit per CPU
 * for all of them, their batched packets folded) and frees each after a
 * grace period. Caller holds @mpn->flows_lock. Sleeps.
 */
VISIBLE_IF_KUNIT
void mutex_proxy_table_reap(struct mutex_proxy_net *mpn)
{
	struct mutex_proxy_flow *flow, *next;
	struct llist_node *dead;

	lockdep_assert_held(&mpn->flows_lock);

	dead = llist_del_all(&mpn->dead);
	mutex_proxy_account_release(dead, mpn->ndead);
	mpn->ndead = 0;
	/* @dead shares its memory with @rcu: read the next one first. The
	 * batches are folded (released above): the end event has the final
	 * counts.
	 */
	llist_for_each_entry_safe(flow, next, dead, dead) {
		if (mutex_proxy_flow_tracked(flow))
			mutex_proxy_event_flow(mpn, MUTEX_EVENT_FLOW_END, flow);
		call_rcu(&flow->rcu, mutex_proxy_flow_free_rcu);
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_reap);

/**
 * mutex_proxy_table_cursor_start() - begin a walk over a namespace's flows
 *	that goes on across calls
 * @mpn: the namespace's state
 * @cur: the cursor
 *
 * A walk hands out every flow present from its start to its end once; a
 * flow that comes or goes meanwhile may or may not be handed out. Only two
 * events can make it miss or repeat a flow that stayed: the table was
 * resized (the walker starts the new table from its start) or the flow the
 * previous call stopped at left the table in between (the walker goes on
 * near its place). Each counts in @cur->breaks once a flow was handed out
 * (a walk that handed out nothing yet just starts again). Sleeps.
 *
 * Return: 0 or -ENOMEM.
 */
int mutex_proxy_table_cursor_start(struct mutex_proxy_net *mpn,
				   struct mutex_proxy_table_cursor *cur)
{
	memset(cur, 0, sizeof(*cur));
	cur->iter = kmalloc(sizeof(*cur->iter), GFP_KERNEL);
	if (!cur->iter)
		return -ENOMEM;
	cur->mpn = mpn;
	rhashtable_walk_enter(&mpn->flows, cur->iter);
	return 0;
}

static void mutex_proxy_table_cursor_break(struct mutex_proxy_table_cursor *cur)
{
	if (cur->visited)
		cur->breaks++;
}

/**
 * mutex_proxy_table_cursor_next() - hand out the next flows of a walk
 * @cur: the cursor, from mutex_proxy_table_cursor_start()
 * @visit: called under RCU for each live flow whose entry is confirmed
 *	(pending ones are resolved first): returns 1 if it took the flow, 0
 *	to skip it, -EMSGSIZE to stop (the flow is handed out first next
 *	time); must not sleep
 * @arg: for @visit
 *
 * Dead flows are skipped. @cur->done is set at the end of the table.
 *
 * Return: the number of flows @visit took, or a negative errno of the walk.
 */
int mutex_proxy_table_cursor_next(struct mutex_proxy_table_cursor *cur,
				  int (*visit)(void *arg,
					       struct mutex_proxy_flow *flow),
				  void *arg)
{
	struct rhashtable_iter *iter = cur->iter;
	struct mutex_proxy_flow *flow;
	struct rhash_head *resume;
	int took = 0, ret = 0;

	if (cur->done)
		return 0;
	/* The walker's current entry is the first one not handed out yet.
	 * Reading the walker's own position is the only way to learn that
	 * it was lost: rhashtable_walk_start_check() clears it when that
	 * entry is no longer in its bucket.
	 */
	resume = iter->p;
	if (rhashtable_walk_start_check(iter) == -EAGAIN ||
	    (resume && !iter->p))
		mutex_proxy_table_cursor_break(cur);
	flow = rhashtable_walk_peek(iter);
	for (;;) {
		if (IS_ERR(flow)) {
			if (PTR_ERR(flow) != -EAGAIN) {
				ret = PTR_ERR(flow);
				break;
			}
			/* Resized: walk the new table from its start. */
			mutex_proxy_table_cursor_break(cur);
			flow = rhashtable_walk_next(iter);
			continue;
		}
		if (!flow) {
			cur->done = true;
			break;
		}
		/* A pending flow's entry is read once it is confirmed. */
		if (!mutex_proxy_flow_dead(flow) &&
		    mutex_proxy_table_resolve(cur->mpn, flow)) {
			ret = visit(arg, flow);
			if (ret == -EMSGSIZE)
				break;
			if (ret > 0) {
				took++;
				cur->visited = true;
			}
			ret = 0;
		}
		flow = rhashtable_walk_next(iter);
	}
	rhashtable_walk_stop(iter);
	return ret == -EMSGSIZE || !ret ? took : ret;
}

/**
 * mutex_proxy_table_cursor_end() - end a walk
 * @cur: the cursor, started or zeroed
 */
void mutex_proxy_table_cursor_end(struct mutex_proxy_table_cursor *cur)
{
	if (!cur->iter)
		return;
	rhashtable_walk_exit(cur->iter);
	kfree(cur->iter);
	cur->iter = NULL;
}

/**
 * mutex_proxy_table_flush() - remove every flow of a namespace
 * @mpn: the namespace's state
 *
 * The connections keep their NAT (conntrack is not touched); they are just
 * no longer tracked. Sleeps; takes flows_lock.
 *
 * Return: the number of flows removed.
 */
u64 mutex_proxy_table_flush(struct mutex_proxy_net *mpn)
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
		if (++n >= MUTEX_PROXY_WALK_BATCH &&
		    mutex_proxy_flow_tracked(flow)) {
			/* Pause while @flow is still linked: the walk then
			 * resumes right after it. (Resuming after an entry
			 * that was removed would skip the entries behind it
			 * in its bucket.) A tracked flow is freed only by
			 * removers, and this one holds flows_lock: @flow
			 * stays linked. (The packet path may replace a
			 * pending one: never pause at those.)
			 */
			n = 0;
			rhashtable_walk_stop(&iter);
			cond_resched();
			rhashtable_walk_start(&iter);
		}
		if (mutex_proxy_table_remove(mpn, flow))
			removed++;
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	mutex_proxy_table_reap(mpn);
	mutex_unlock(&mpn->flows_lock);
	return removed;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_flush);

/*
 * Whether the steered conntrack entry @ct (@redirect: labelled
 * MUTEX_CT_LABEL_REDIRECT) went to backend @be of @pool: the reply comes
 * from where it was steered, a local port for a redirect.
 */
static bool mutex_proxy_ct_steered_to(const struct nf_conn *ct, bool redirect,
				      const struct mutex_proxy_pool *pool,
				      const struct mutex_proxy_backend *be)
{
	const struct nf_conntrack_tuple *reply =
		&ct->tuplehash[IP_CT_DIR_REPLY].tuple;

	if (reply->src.u.all != htons(be->port))
		return false;
	if (pool->local)
		return redirect;
	return !redirect &&
	       reply->src.l3num == (be->family == AF_INET6 ?
				    NFPROTO_IPV6 : NFPROTO_IPV4) &&
	       nf_inet_addr_cmp(&reply->src.u3, &be->addr);
}

/* What mutex_proxy_table_end_flows() looks for. */
struct mutex_proxy_end {
	struct mutex_proxy_net *mpn;
	const struct mutex_proxy_pool *pool;
	const struct mutex_proxy_backend *be;
	u8 proto;
	u64 ended;
};

/* Whether conntrack entry @ct is a connection steered to @arg's backend. */
static int mutex_proxy_end_match(struct nf_conn *ct, void *arg)
{
	struct mutex_proxy_end *end = arg;
	const struct mutex_proxy_backend *be = end->be;
	const struct nf_conn_labels *labels = nf_ct_labels_find(ct);
	const struct mutex_proxy_flow *flow;
	bool redirect, ours;

	if (!labels || !test_bit(MUTEX_CT_LABEL_STEERED, labels->bits))
		return 0;
	if (end->proto && nf_ct_protonum(ct) != end->proto)
		return 0;
	redirect = test_bit(MUTEX_CT_LABEL_REDIRECT, labels->bits);
	if (!mutex_proxy_ct_steered_to(ct, redirect, end->pool, be))
		return 0;
	/* Another pool may steer to the same address and port: a flow the
	 * table tracks says which backend it went to.
	 */
	rcu_read_lock();
	flow = mutex_proxy_table_lookup(end->mpn, ct);
	ours = !flow || flow->ctr == be->ctr;
	rcu_read_unlock();
	if (ours)
		end->ended++;
	return ours;
}

/**
 * mutex_proxy_table_end_flows() - end the connections steered to a backend
 * @mpn: the namespace
 * @pool: the backend's pool, of the current snapshot (config_lock held)
 * @be: the backend
 * @proto: IPPROTO_TCP or IPPROTO_UDP to end only those, or 0 for both
 *
 * Deletes their conntrack entries, as conntrack -D does: a flow the table
 * tracks then leaves it with the collector's next run, and the next packet
 * of the connection is a new flow (a UDP flow's next datagram is decided by
 * the rules again; a TCP one is not steered, see steer.c). Walks the
 * namespace's conntrack entries, so that flows the table could not track
 * are ended too. Sleeps.
 *
 * Return: the number of connections ended.
 */
u64 mutex_proxy_table_end_flows(struct mutex_proxy_net *mpn,
				const struct mutex_proxy_pool *pool,
				const struct mutex_proxy_backend *be, u8 proto)
{
	struct mutex_proxy_end end = {
		.mpn = mpn, .pool = pool, .be = be, .proto = proto,
	};
	struct nf_ct_iter_data data = { .net = mpn->net, .data = &end };

	lockdep_assert_held(&mpn->config_lock);
	nf_ct_iterate_cleanup_net(mutex_proxy_end_match, &data);
	return end.ended;
}

/* What mutex_proxy_table_adopt() carries through its walk. */
struct mutex_proxy_adopt {
	struct mutex_proxy_net *mpn;
	const struct mutex_proxy_config *cfg;
	u64 adopted;
	bool full;
};

/*
 * The counters of the first backend of @cfg that steered entry @ct went to
 * (mutex_proxy_ct_steered_to()), or NULL.
 */
static struct mutex_proxy_backend_ctr *
mutex_proxy_adopt_ctr(const struct mutex_proxy_config *cfg,
		      const struct nf_conn *ct, bool redirect)
{
	u32 i, j;

	for (i = 0; i < cfg->n_pools; i++) {
		const struct mutex_proxy_pool *pool = &cfg->pools[i];

		for (j = 0; j < pool->n_backends; j++)
			if (mutex_proxy_ct_steered_to(ct, redirect, pool,
						      &pool->backends[j]))
				return pool->backends[j].ctr;
	}
	return NULL;
}

/*
 * Take conntrack entry @ct into the table if it is a steered one the table
 * does not hold. Called by the conntrack walk with the entry's hash bucket
 * locked (BH off); never deletes it (returns 0).
 */
static int mutex_proxy_adopt_one(struct nf_conn *ct, void *arg)
{
	struct mutex_proxy_adopt *ad = arg;
	struct mutex_proxy_net *mpn = ad->mpn;
	const struct nf_conn_labels *labels = nf_ct_labels_find(ct);
	struct mutex_proxy_flow *flow, *old;
	bool redirect;

	if (ad->full || !labels ||
	    !test_bit(MUTEX_CT_LABEL_STEERED, labels->bits) ||
	    !nf_ct_is_confirmed(ct) || nf_ct_is_dying(ct))
		return 0;
	if (mutex_proxy_table_count(mpn) >=
	    mutex_proxy_param_get(MUTEX_PARAM_A_MAX_CONNS)) {
		ad->full = true;
		mutex_proxy_table_full(mpn);
		return 0;
	}
	redirect = test_bit(MUTEX_CT_LABEL_REDIRECT, labels->bits);
	flow = mutex_proxy_flow_alloc(mpn, ct,
				      mutex_proxy_adopt_ctr(ad->cfg, ct, redirect),
				      redirect ? MUTEX_ACTION_REDIRECT :
						 MUTEX_ACTION_DNAT);
	if (!flow) {
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_ALLOC_FAILS, 1);
		return 0;
	}
	old = rhashtable_lookup_get_insert_fast(&mpn->flows, &flow->node,
						mutex_proxy_flow_params);
	if (old) {
		/* Held already (steered since the load), or no room. */
		mutex_proxy_flow_free(flow);
		if (IS_ERR(old))
			mutex_proxy_stats_add(mpn->stats,
					      MUTEX_STATS_A_ALLOC_FAILS, 1);
		return 0;
	}
	/* The bucket lock keeps the confirmed entry alive. */
	mutex_proxy_table_track(flow, ct);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_TABLE_INSERTS, 1);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_FLOWS_ADOPTED, 1);
	ad->adopted++;
	return 0;
}

/**
 * mutex_proxy_table_adopt() - take the connections an earlier load of the
 *	module steered into the table
 * @mpn: the namespace
 * @cfg: its snapshot just published (config_lock held), whose backends the
 *	flows are counted to
 *
 * Walks the namespace's conntrack entries for confirmed ones labelled
 * MUTEX_CT_LABEL_STEERED that the table does not hold (the UAPI header's
 * "Module upgrades"), as mutex_proxy_table_end_flows() walks them. Sleeps.
 *
 * Return: the number of flows adopted.
 */
u64 mutex_proxy_table_adopt(struct mutex_proxy_net *mpn,
			    const struct mutex_proxy_config *cfg)
{
	struct mutex_proxy_adopt ad = { .mpn = mpn, .cfg = cfg };
	struct nf_ct_iter_data data = { .net = mpn->net, .data = &ad };

	lockdep_assert_held(&mpn->config_lock);
	nf_ct_iterate_cleanup_net(mutex_proxy_adopt_one, &data);
	if (ad.adopted)
		mutex_proxy_table_gc_soon(mpn);
	return ad.adopted;
}

/*
 * The flow's conntrack entry is gone or as good as gone: deleted (dying) or
 * timed out (conntrack reaps expired entries lazily, and a packet of the
 * same tuple would start a new entry); or the flow is pending long after
 * its decision (its first packet was lost, or the entry was confirmed but
 * nothing since showed it to us; mutex_proxy_table_resolve() looks first).
 * A pending flow's entry is not ours to hold. With an eviction
 * requested, flows that never saw a reply go too while the table is fuller than
 * seven eighths (or than max_conns - 1).
 */
static bool mutex_proxy_flow_gone(struct mutex_proxy_net *mpn,
				  struct mutex_proxy_flow *flow)
{
	const struct nf_conn *ct = flow->ct;
	u32 max;

	if (!mutex_proxy_table_resolve(mpn, flow))
		return time_after(jiffies,
				  flow->start + MUTEX_PROXY_UNCONFIRMED_MAX);
	if (nf_ct_is_dying(ct) || nf_ct_is_expired(ct))
		return true;
	/* A flow younger than one collector interval gets its chance to be
	 * answered: a flood is older by the time it is evicted.
	 */
	if (!atomic_read(&mpn->evict) ||
	    test_bit(IPS_SEEN_REPLY_BIT, &ct->status) ||
	    time_before(jiffies, flow->start + MUTEX_PROXY_GC_INTERVAL))
		return false;
	max = mutex_proxy_param_get(MUTEX_PARAM_A_MAX_CONNS);
	return mutex_proxy_table_count(mpn) > max - max_t(u32, max / 8, 1);
}

/*
 * How many flows the collector's next run looks at: a share of the table
 * such that a pass takes MUTEX_PROXY_GC_PASS runs, at least
 * MUTEX_PROXY_GC_MIN_SCAN; all the rest of the pass while the table asks
 * for room.
 */
static u32 mutex_proxy_gc_quota(struct mutex_proxy_net *mpn)
{
	u32 n = mutex_proxy_table_count(mpn);

	if (atomic_read(&mpn->evict))
		return U32_MAX;
	return max_t(u32, DIV_ROUND_UP(n, MUTEX_PROXY_GC_PASS),
		     MUTEX_PROXY_GC_MIN_SCAN);
}

/**
 * mutex_proxy_table_gc() - one run of the collector: remove the flows whose
 *	conntrack entry died among the next share of the table, and make room
 *	in a full table
 * @mpn: the namespace's state
 * @run: what the run did (filled in)
 *
 * Goes on where the previous run stopped; a run that reaches the end of the
 * table stops there, the next one starts a new pass. Run by the namespace's
 * worker; KUnit calls it directly. Sleeps; takes flows_lock.
 */
VISIBLE_IF_KUNIT
void mutex_proxy_table_gc(struct mutex_proxy_net *mpn,
			  struct mutex_proxy_gc_run *run)
{
	struct rhashtable_iter *iter = &mpn->gc_iter;
	u32 quota = mutex_proxy_gc_quota(mpn);
	bool timed = !atomic_read(&mpn->evict);
	struct mutex_proxy_flow *flow;
	unsigned int since = 0;
	u64 t0;

	memset(run, 0, sizeof(*run));
	mutex_lock(&mpn->flows_lock);
	t0 = local_clock();
	rhashtable_walk_start(iter);
	for (;;) {
		flow = rhashtable_walk_next(iter);
		if (IS_ERR(flow))
			continue;	/* resized: a new pass from its start */
		if (!flow) {
			run->pass_done = true;
			break;
		}
		run->examined++;
		if (mutex_proxy_flow_gone(mpn, flow) &&
		    mutex_proxy_table_remove(mpn, flow)) {
			/* Never pause right after a removed flow (see
			 * mutex_proxy_table_flush()): go on to one that
			 * stays.
			 */
			run->removed++;
			continue;
		}
		if (run->examined >= quota)
			break;
		if (++since >= MUTEX_PROXY_WALK_BATCH) {
			since = 0;
			if (timed && run->examined >= MUTEX_PROXY_GC_MIN_SCAN &&
			    local_clock() - t0 >= MUTEX_PROXY_GC_RUN_NS)
				break;
			rhashtable_walk_stop(iter);
			cond_resched();
			rhashtable_walk_start(iter);
		}
	}
	/* Between runs the flow the walk stopped at may go (a flush, the
	 * packet path replacing a pending one): the walk compares pointers
	 * only and, not finding it, goes on near where it was. A flow it
	 * misses is met in the next pass.
	 */
	rhashtable_walk_stop(iter);
	if (run->pass_done) {
		rhashtable_walk_exit(iter);
		rhashtable_walk_enter(&mpn->flows, iter);
	}
	mutex_proxy_table_reap(mpn);
	mutex_unlock(&mpn->flows_lock);

	/* A table still full keeps asking (its young flows age). */
	if (mutex_proxy_table_count(mpn) <
	    mutex_proxy_param_get(MUTEX_PARAM_A_MAX_CONNS))
		atomic_set(&mpn->evict, 0);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_gc);

/**
 * mutex_proxy_gc_delay() - when the collector runs next
 * @run: what its last run did
 *
 * Return: MUTEX_PROXY_GC_BUSY_INTERVAL after a run that found at least a
 * quarter of the flows it looked at ended, else MUTEX_PROXY_GC_INTERVAL.
 */
VISIBLE_IF_KUNIT
unsigned long mutex_proxy_gc_delay(const struct mutex_proxy_gc_run *run)
{
	if (run->removed && run->removed >= run->examined / 4)
		return MUTEX_PROXY_GC_BUSY_INTERVAL;
	return MUTEX_PROXY_GC_INTERVAL;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_gc_delay);

static void mutex_proxy_gc_work(struct work_struct *work)
{
	struct mutex_proxy_net *mpn =
		container_of(to_delayed_work(work), struct mutex_proxy_net, gc);
	struct mutex_proxy_gc_run run;

	mutex_proxy_table_gc(mpn, &run);
	if (mutex_proxy_table_count(mpn))
		queue_delayed_work(system_long_wq, &mpn->gc,
				   mutex_proxy_gc_delay(&run));
}

/**
 * mutex_proxy_table_init() - set up a namespace's connection table
 * @mpn: the namespace's state
 *
 * Sleeps. Return: 0 or a negative errno.
 */
int mutex_proxy_table_init(struct mutex_proxy_net *mpn)
{
	int err;

	mutex_init(&mpn->flows_lock);
	init_llist_head(&mpn->dead);
	mpn->ndead = 0;
	atomic_set(&mpn->evict, 0);
	INIT_DELAYED_WORK(&mpn->gc, mutex_proxy_gc_work);
	err = rhashtable_init(&mpn->flows, &mutex_proxy_flow_params);
	if (err)
		return err;
	rhashtable_walk_enter(&mpn->flows, &mpn->gc_iter);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_init);

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
	rhashtable_walk_exit(&mpn->gc_iter);
	rhashtable_destroy(&mpn->flows);
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_table_exit);
