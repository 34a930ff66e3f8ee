// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: per-packet accounting of steered flows: the per-CPU flow
 * cache and the per-CPU accounting batches.
 *
 * Every packet of a steered flow is counted once (hooks.c calls
 * mutex_proxy_account_packet() where it leaves the IP stack or, from
 * another host, where it is delivered). The first packet of a flow, whose
 * conntrack entry is not confirmed yet, is folded at once into its pending
 * flow; the first one after confirmation makes the flow tracked (table.c).
 * Finding its flow is a lookup in the connection table (table.c); a small
 * direct-mapped per-CPU cache of perf_cache_size entries, indexed by a hash of
 * the conntrack entry, saves that lookup for the flows a CPU sees most. The
 * counts then go into the CPU's batch: up to perf_batch_size packets of one
 * flow, folded into the shared counters (the flow's atomics, the backend's and
 * the namespace's per-CPU counters) when the batch is full, when a packet of
 * another flow comes, before any statistics are read
 * (mutex_proxy_account_flush_all()) and when the flow leaves the table.
 * perf_enable_batching=0 folds every packet at once.
 *
 * Each CPU's cache and batch are guarded by the CPU's own spinlock, taken
 * with BH disabled. The packet path takes only its own CPU's lock, which
 * nobody else wants except the rare readers and removers, so it costs an
 * uncontended atomic; in exchange:
 *   - a process-context sender (LOCAL_OUT, POST_ROUTING of local traffic)
 *     and a softirq on the same CPU never interleave inside the batch;
 *   - a reader folds another CPU's batch safely;
 *   - a removed flow is let go of exactly, at a cost that does not grow with
 *     the number of CPUs per flow: the remover marks the flow dead and hands
 *     it to its namespace's list of dead flows (table.c); no CPU puts a dead
 *     flow into its cache or batch, and a dead flow found in a cache slot is
 *     a miss. After a batch of removals (one collector run, a flush) the
 *     remover calls mutex_proxy_account_release() once for all of them: it
 *     visits every CPU under its lock, clears the slots that hold one of
 *     them and folds a batch that holds one, so a CPU either put the flow
 *     in its cache or batch before the visit (and the visit takes it out)
 *     or looks after (and sees it dead). The flows are freed a grace period
 *     later; no cache or batch points to them. Until then a stale slot or
 *     batch points to memory that is still the flow's.
 *   - resizing the cache (perf_cache_size, through sysfs or SET_PARAMS)
 *     allocates the new arrays first (a failure changes nothing), then swaps
 *     each CPU's array under its lock and frees the old one: no packet ever
 *     sees a freed cache.
 */
#include <linux/cpumask.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <net/netfilter/nf_conntrack.h>

#include "account.h"
#include "counters.h"
#include "net.h"
#include "params.h"
#include "stats.h"
#include "table.h"
#include "compat.h"

/**
 * struct mutex_proxy_batch - packets of one flow not folded yet
 * @flow: the flow, or NULL (empty batch)
 * @n: packets in the batch
 * @pkts: packets per direction
 * @bytes: bytes per direction
 */
struct mutex_proxy_batch {
	struct mutex_proxy_flow *flow;
	u32 n;
	u32 pkts[2];
	u64 bytes[2];
};

/**
 * struct mutex_proxy_cpu - one CPU's accounting state
 * @lock: guards everything below
 * @bits: log2 of the number of cache entries (when @cache is set)
 * @cache: the flow cache, 1 << @bits entries, or NULL (perf_cache_size=0)
 * @batch: the accounting batch
 */
struct mutex_proxy_cpu {
	spinlock_t lock;	/* guards this CPU's cache and batch */
	u32 bits;
	struct mutex_proxy_flow **cache;
	struct mutex_proxy_batch batch;
};

static struct mutex_proxy_cpu __percpu *mutex_proxy_cpus;
/* Serializes resizing against init and exit. */
static DEFINE_MUTEX(mutex_proxy_account_lock);

/*
 * Fold a CPU's batch into the shared counters and empty it. Caller holds
 * that CPU's lock (BH disabled); the flow is not freed yet (alive, or dead
 * and not yet released), and tracked or pending with its own packet in hand.
 */
static void mutex_proxy_batch_fold(struct mutex_proxy_batch *b)
{
	struct mutex_proxy_flow *flow = b->flow;
	struct mutex_proxy_pcpu_stats *s;
	struct mutex_proxy_net *mpn;
	u64 pkts, bytes;
	int dir;

	if (!flow)
		return;
	pkts = (u64)b->pkts[0] + b->pkts[1];
	bytes = b->bytes[0] + b->bytes[1];
	for (dir = IP_CT_DIR_ORIGINAL; dir <= IP_CT_DIR_REPLY; dir++) {
		if (!b->pkts[dir])
			continue;
		atomic64_add(b->pkts[dir], &flow->pkts[dir]);
		atomic64_add(b->bytes[dir], &flow->bytes[dir]);
	}
	WRITE_ONCE(flow->last, jiffies);

	if (flow->ctr) {
		struct mutex_proxy_backend_pcpu *c = this_cpu_ptr(flow->ctr->pcpu);

		u64_stats_update_begin(&c->syncp);
		for (dir = IP_CT_DIR_ORIGINAL; dir <= IP_CT_DIR_REPLY; dir++) {
			u64_stats_add(&c->pkts[dir], b->pkts[dir]);
			u64_stats_add(&c->bytes[dir], b->bytes[dir]);
		}
		u64_stats_update_end(&c->syncp);
	}

	mpn = flow->mpn;
	s = this_cpu_ptr(mpn->stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->cnt[MUTEX_STATS_A_PKTS_STEERED - MUTEX_PROXY_STAT_FIRST],
		      pkts);
	u64_stats_add(&s->cnt[MUTEX_STATS_A_BYTES_STEERED - MUTEX_PROXY_STAT_FIRST],
		      bytes);
	u64_stats_inc(&s->cnt[MUTEX_STATS_A_BATCH_FLUSHES - MUTEX_PROXY_STAT_FIRST]);
	u64_stats_update_end(&s->syncp);

	memset(b, 0, sizeof(*b));
}

/* The cache slot of @ct on a CPU, or NULL without a cache. Under its lock. */
static struct mutex_proxy_flow **
mutex_proxy_cache_slot(struct mutex_proxy_cpu *c, const struct nf_conn *ct)
{
	if (!c->cache)
		return NULL;
	return &c->cache[c->bits ? hash_ptr(ct, c->bits) : 0];
}

/**
 * mutex_proxy_account_packet() - count one packet of a flow that may be
 *	steered
 * @mpn: the namespace's state
 * @ct: the packet's conntrack entry
 * @dir: its direction
 * @len: its length (IP header and payload)
 *
 * Packet path, under RCU, any context that may disable BH. Packets of flows
 * not in the table are ignored.
 */
void mutex_proxy_account_packet(struct mutex_proxy_net *mpn,
				struct nf_conn *ct,
				enum ip_conntrack_dir dir, unsigned int len)
{
	struct mutex_proxy_flow *flow, **slot;
	struct mutex_proxy_cpu *c;
	struct mutex_proxy_batch *b;
	enum mutex_stats_attr cstat = 0;
	bool batching;

	if (!READ_ONCE(mutex_proxy_cpus))
		return;

	local_bh_disable();
	c = this_cpu_ptr(mutex_proxy_cpus);
	spin_lock(&c->lock);

	slot = mutex_proxy_cache_slot(c, ct);
	flow = slot ? *slot : NULL;
	if (flow && flow->ct == ct && !mutex_proxy_flow_dead(flow)) {
		cstat = MUTEX_STATS_A_CACHE_HITS;
	} else {
		if (slot)
			cstat = MUTEX_STATS_A_CACHE_MISSES;
		flow = mutex_proxy_table_lookup(mpn, ct);
		if (!flow || mutex_proxy_flow_dead(flow)) {
			flow = NULL;
			goto unlock;
		}
		if (!mutex_proxy_flow_tracked(flow)) {
			if (!nf_ct_is_confirmed(ct)) {
				/* The first packet, whose entry is not
				 * confirmed yet: straight into the pending
				 * flow, which stays out of caches and batches.
				 */
				struct mutex_proxy_batch one = { .flow = flow };

				one.n = 1;
				one.pkts[dir] = 1;
				one.bytes[dir] = len;
				mutex_proxy_batch_fold(&one);
				goto unlock;
			}
			mutex_proxy_table_track(flow, ct);
		}
		if (slot)
			*slot = flow;
	}

	b = &c->batch;
	batching = mutex_proxy_param_get(MUTEX_PARAM_A_ENABLE_BATCHING);
	if (b->flow != flow) {
		mutex_proxy_batch_fold(b);
		b->flow = flow;
	}
	b->n++;
	b->pkts[dir]++;
	b->bytes[dir] += len;
	if (!batching ||
	    b->n >= mutex_proxy_param_get(MUTEX_PARAM_A_BATCH_SIZE))
		mutex_proxy_batch_fold(b);

unlock:
	spin_unlock(&c->lock);
	if (cstat)
		mutex_proxy_stats_add(mpn->stats, cstat, 1);
	local_bh_enable();
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_account_packet);

/*
 * Take the dead flows of @dead (@n of them) out of one CPU's cache. Fewer
 * flows than slots: look at the slot of each; more: look at every slot for a
 * dead flow (a flow in a slot is not freed, so reading its flags is safe; a
 * dead flow of another list goes too). Under the CPU's lock; the work is
 * bounded by the cache size either way.
 */
static void mutex_proxy_cache_release(struct mutex_proxy_cpu *c,
				      struct llist_node *dead, unsigned long n)
{
	struct mutex_proxy_flow *flow, **slot;
	u32 i, entries;

	if (!c->cache)
		return;
	entries = 1U << c->bits;
	if (n < entries) {
		llist_for_each_entry(flow, dead, dead) {
			slot = mutex_proxy_cache_slot(c, flow->ct);
			if (*slot == flow)
				*slot = NULL;
		}
		return;
	}
	for (i = 0; i < entries; i++)
		if (c->cache[i] && mutex_proxy_flow_dead(c->cache[i]))
			c->cache[i] = NULL;
}

/**
 * mutex_proxy_account_release() - let every CPU's cache and batch go of
 *	dead flows
 * @dead: the flows, each marked dead and unlinked from its table, linked by
 *	their @dead member (a list of the remover's own)
 * @n: how many
 *
 * Batched packets of these flows are folded first, so no count is lost;
 * afterwards no cache or batch holds any of them and the remover may free
 * them after a grace period. One visit per CPU for the whole list: the cost
 * of removing a flow does not grow with the number of CPUs. Sleeps (between
 * CPUs).
 */
void mutex_proxy_account_release(struct llist_node *dead, unsigned long n)
{
	struct mutex_proxy_cpu *c;
	int cpu;

	if (!dead || !mutex_proxy_cpus)
		return;
	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(mutex_proxy_cpus, cpu);
		spin_lock_bh(&c->lock);
		mutex_proxy_cache_release(c, dead, n);
		/* A dead flow of another list is folded too: its own
		 * remover has not visited this CPU yet, so it is not freed.
		 */
		if (c->batch.flow && mutex_proxy_flow_dead(c->batch.flow))
			mutex_proxy_batch_fold(&c->batch);
		spin_unlock_bh(&c->lock);
		cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_account_release);

/**
 * mutex_proxy_account_flush_all() - fold every CPU's batch
 *
 * Called before statistics are read, so readers never see counts more
 * than one batch old. Any context that may disable BH.
 */
void mutex_proxy_account_flush_all(void)
{
	struct mutex_proxy_cpu *c;
	int cpu;

	if (!mutex_proxy_cpus)
		return;
	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(mutex_proxy_cpus, cpu);
		spin_lock_bh(&c->lock);
		mutex_proxy_batch_fold(&c->batch);
		spin_unlock_bh(&c->lock);
	}
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_account_flush_all);

/* Swap in new cache arrays (@arrays[cpu], NULL for no cache); the old ones
 * are left in @arrays. Caller holds mutex_proxy_account_lock.
 */
static void mutex_proxy_cache_swap(struct mutex_proxy_flow ***arrays, u32 bits)
{
	struct mutex_proxy_flow **old;
	struct mutex_proxy_cpu *c;
	int cpu;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(mutex_proxy_cpus, cpu);
		spin_lock_bh(&c->lock);
		old = c->cache;
		c->cache = arrays[cpu];
		c->bits = bits;
		spin_unlock_bh(&c->lock);
		arrays[cpu] = old;
	}
}

static void mutex_proxy_cache_arrays_free(struct mutex_proxy_flow ***arrays)
{
	int cpu;

	for_each_possible_cpu(cpu)
		kvfree(arrays[cpu]);
	kfree(arrays);
}

/* Allocate one zeroed cache array per possible CPU (NULLs for @entries 0). */
static struct mutex_proxy_flow ***mutex_proxy_cache_arrays_alloc(u32 entries)
{
	struct mutex_proxy_flow ***arrays;
	int cpu;

	arrays = kcalloc(nr_cpu_ids, sizeof(*arrays), GFP_KERNEL);
	if (!arrays || !entries)
		return arrays;
	for_each_possible_cpu(cpu) {
		arrays[cpu] = kvzalloc_node(array_size(entries, sizeof(**arrays)),
					    GFP_KERNEL, cpu_to_node(cpu));
		if (!arrays[cpu]) {
			mutex_proxy_cache_arrays_free(arrays);
			return NULL;
		}
	}
	return arrays;
}

/**
 * mutex_proxy_account_resize() - give every CPU a cache of a new size
 * @entries: 0 (no cache) or a power of two
 *
 * perf_cache_size's effect (mutex_proxy_param_effect(), from
 * mutex_proxy_account_init() to mutex_proxy_account_exit()): the parameter
 * setter calls it before it stores a new value. Sleeps.
 *
 * Return: 0, or -ENOMEM with the old caches kept.
 */
int mutex_proxy_account_resize(u32 entries)
{
	struct mutex_proxy_flow ***arrays;
	int err = 0;

	mutex_lock(&mutex_proxy_account_lock);
	if (!mutex_proxy_cpus)
		goto out;
	arrays = mutex_proxy_cache_arrays_alloc(entries);
	if (!arrays) {
		err = -ENOMEM;
		goto out;
	}
	mutex_proxy_cache_swap(arrays, entries ? ilog2(entries) : 0);
	mutex_proxy_cache_arrays_free(arrays);
out:
	mutex_unlock(&mutex_proxy_account_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_account_resize);

/**
 * mutex_proxy_account_init() - allocate every CPU's cache and batch
 *
 * Before any namespace is set up. Sleeps. Return: 0 or -ENOMEM.
 */
int mutex_proxy_account_init(void)
{
	struct mutex_proxy_cpu __percpu *cpus;
	int cpu;

	cpus = alloc_percpu(struct mutex_proxy_cpu);
	if (!cpus)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(cpus, cpu)->lock);

	mutex_lock(&mutex_proxy_account_lock);
	WRITE_ONCE(mutex_proxy_cpus, cpus);
	mutex_unlock(&mutex_proxy_account_lock);

	/* Sizes the caches for the current perf_cache_size, and again for
	 * every new one.
	 */
	if (mutex_proxy_param_effect(MUTEX_PARAM_A_CACHE_SIZE,
				     mutex_proxy_account_resize)) {
		mutex_proxy_account_exit();
		return -ENOMEM;
	}
	return 0;
}

/**
 * mutex_proxy_account_exit() - free every CPU's cache and batch
 *
 * After every namespace is gone: no flow, so no batch, is left. Sleeps.
 */
void mutex_proxy_account_exit(void)
{
	struct mutex_proxy_cpu __percpu *cpus;
	int cpu;

	mutex_proxy_param_effect(MUTEX_PARAM_A_CACHE_SIZE, NULL);
	mutex_lock(&mutex_proxy_account_lock);
	cpus = mutex_proxy_cpus;
	WRITE_ONCE(mutex_proxy_cpus, NULL);
	mutex_unlock(&mutex_proxy_account_lock);
	if (!cpus)
		return;
	for_each_possible_cpu(cpu) {
		struct mutex_proxy_cpu *c = per_cpu_ptr(cpus, cpu);

		WARN_ON_ONCE(c->batch.flow);
		kvfree(c->cache);
	}
	free_percpu(cpus);
}
