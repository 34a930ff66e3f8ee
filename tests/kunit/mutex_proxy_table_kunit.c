// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for mutex_proxy.ko: the connection table (insert, lookup,
 * removal, max_conns, the conntrack-death collector), the per-CPU flow
 * cache (hit, miss, invalidation, resize) and the accounting batches
 * (folding, flush before read, folding on removal), alone and under
 * concurrent packets.
 *
 * Every case has a connection table of its own (the state of a namespace
 * that is not one: counters, table and collector, set up and torn down
 * around the case), so no case touches the live table of a namespace nor
 * meets its flows and its collector. Its conntrack entries are its own too
 * (allocated in the initial namespace, never in conntrack's hash;
 * "confirmed" by setting the bit where a case needs a tracked flow), so the
 * paths are the ones packets take. Parameters are saved and restored
 * around every case.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_zones.h>

#include "account.h"
#include "events.h"
#include "net.h"
#include "params.h"
#include "stats.h"
#include "table.h"
#include "compat.h"

MUTEX_PROXY_IMPORT_KUNIT_NS();

static struct mutex_proxy_params kt_saved;
static struct mutex_proxy_net *kt_mpn;

static int kt_init(struct kunit *test)
{
	struct mutex_proxy_net *mpn;
	int err;

	mpn = kzalloc(sizeof(*mpn), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mpn);
	err = mutex_proxy_net_state_init(mpn, &init_net);
	if (err)
		kfree(mpn);
	KUNIT_ASSERT_EQ(test, err, 0);
	kt_mpn = mpn;
	mutex_proxy_params_get(&kt_saved);
	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_ENABLE_ACCOUNTING,
						    1, NULL), 0);
	return 0;
}

static void kt_exit(struct kunit *test)
{
	struct mutex_proxy_param_update upd = {
		.mask = GENMASK(MUTEX_PARAM_A_MAX, MUTEX_PARAM_A_UNSPEC + 1),
	};

	memcpy(upd.val, kt_saved.val, sizeof(upd.val));
	KUNIT_EXPECT_EQ(test, mutex_proxy_params_update(&upd, NULL, NULL, NULL),
			0);
	/* Flows left behind by a failed case go with the table. */
	mutex_proxy_net_state_exit(kt_mpn);
	rcu_barrier();
	kfree(kt_mpn);
	kt_mpn = NULL;
}

static struct mutex_proxy_net *kt_net(void)
{
	return kt_mpn;
}

static u64 kt_stat(enum mutex_stats_attr attr)
{
	struct mutex_proxy_stats_sum sum;

	mutex_proxy_stats_sum(kt_net()->stats, &sum);
	return sum.cnt[attr - MUTEX_PROXY_STAT_FIRST];
}

/* A conntrack entry of 192.0.2.1:@sport -> 192.0.2.2:80, one reference. */
static struct nf_conn *kt_ct(struct kunit *test, u16 sport)
{
	struct nf_conntrack_tuple t = {}, r = {};
	struct nf_conn *ct;

	t.src.l3num = NFPROTO_IPV4;
	t.dst.protonum = IPPROTO_TCP;
	t.src.u3.ip = htonl(0xc0000201);
	t.dst.u3.ip = htonl(0xc0000202);
	t.src.u.all = htons(sport);
	t.dst.u.all = htons(80);
	r.src.l3num = NFPROTO_IPV4;
	r.dst.protonum = IPPROTO_TCP;
	r.src.u3 = t.dst.u3;
	r.dst.u3 = t.src.u3;
	r.src.u.all = t.dst.u.all;
	r.dst.u.all = t.src.u.all;
	r.dst.dir = IP_CT_DIR_REPLY;

	ct = nf_conntrack_alloc(&init_net, &nf_ct_zone_dflt, &t, &r, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(ct));
	/* As init_conntrack() does before the entry meets an skb. */
	refcount_set(&ct->ct_general.use, 1);
	return ct;
}

/* Record the decision for unconfirmed @ct: a pending flow must be added. */
static struct mutex_proxy_flow *kt_decide(struct kunit *test,
					  struct nf_conn *ct, u8 action)
{
	struct mutex_proxy_flow *flow;

	rcu_read_lock();
	mutex_proxy_table_add(kt_net(), ct, NULL, action);
	flow = mutex_proxy_table_lookup(kt_net(), ct);
	rcu_read_unlock();
	KUNIT_ASSERT_NOT_NULL(test, flow);
	KUNIT_EXPECT_FALSE(test, mutex_proxy_flow_tracked(flow));
	return flow;
}

/* A redirected flow for @ct, whose entry is then confirmed: tracked. */
static struct mutex_proxy_flow *kt_add(struct kunit *test, struct nf_conn *ct)
{
	struct mutex_proxy_flow *flow = kt_decide(test, ct,
						  MUTEX_ACTION_REDIRECT);

	set_bit(IPS_CONFIRMED_BIT, &ct->status);
	/* Confirmed entries have an absolute timeout: far away. */
	WRITE_ONCE(ct->timeout, nfct_time_stamp + 1000 * HZ);
	mutex_proxy_table_track(flow, ct);
	KUNIT_EXPECT_TRUE(test, mutex_proxy_flow_tracked(flow));
	return flow;
}

/* Remove the flow of @ct, if any. Return: whether this call removed it. */
static bool kt_remove(struct nf_conn *ct)
{
	struct mutex_proxy_net *mpn = kt_net();
	struct mutex_proxy_flow *flow;
	bool removed = false;

	mutex_lock(&mpn->flows_lock);
	rcu_read_lock();
	flow = mutex_proxy_table_lookup(mpn, ct);
	if (flow)
		removed = mutex_proxy_table_remove(mpn, flow);
	rcu_read_unlock();
	mutex_proxy_table_reap(mpn);
	mutex_unlock(&mpn->flows_lock);
	return removed;
}

/* Remove @ct's flow, wait for it to be freed, drop the test's reference. */
static void kt_done(struct kunit *test, struct nf_conn *ct)
{
	kt_remove(ct);
	rcu_barrier();
	/* Never in conntrack's hash: let it be freed as unconfirmed. */
	clear_bit(IPS_CONFIRMED_BIT, &ct->status);
	KUNIT_EXPECT_EQ(test, refcount_read(&ct->ct_general.use), 1u);
	nf_ct_put(ct);
}

/* One packet, as the hooks account it. */
static void kt_packet(struct nf_conn *ct, enum ip_conntrack_dir dir,
		      unsigned int len)
{
	rcu_read_lock();
	mutex_proxy_account_packet(kt_net(), ct, dir, len);
	rcu_read_unlock();
}

static void mutex_proxy_kunit_table_basic(struct kunit *test)
{
	struct mutex_proxy_net *mpn = kt_net();
	u64 ins = kt_stat(MUTEX_STATS_A_TABLE_INSERTS);
	u64 ev = kt_stat(MUTEX_STATS_A_TABLE_EVICTIONS);
	u32 n = mutex_proxy_table_count(mpn);
	struct mutex_proxy_flow *flow;
	struct nf_conn *ct = kt_ct(test, 1000);

	flow = kt_add(test, ct);
	KUNIT_EXPECT_PTR_EQ(test, flow->ct, ct);
	KUNIT_EXPECT_EQ(test, flow->action, (u8)MUTEX_ACTION_REDIRECT);
	KUNIT_EXPECT_FALSE(test, mutex_proxy_flow_dead(flow));
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_count(mpn), n + 1);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_TABLE_INSERTS), ins + 1);
	/* The tracked flow holds the entry; tracking again changes nothing. */
	KUNIT_EXPECT_EQ(test, refcount_read(&ct->ct_general.use), 2u);
	mutex_proxy_table_track(flow, ct);
	KUNIT_EXPECT_EQ(test, refcount_read(&ct->ct_general.use), 2u);

	KUNIT_EXPECT_TRUE(test, kt_remove(ct));
	KUNIT_EXPECT_FALSE(test, kt_remove(ct));
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, ct));
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_count(mpn), n);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_TABLE_EVICTIONS), ev + 1);
	kt_done(test, ct);
}

static void mutex_proxy_kunit_table_full(struct kunit *test)
{
	struct mutex_proxy_net *mpn = kt_net();
	u64 full = kt_stat(MUTEX_STATS_A_TABLE_FULL);
	struct nf_conn *a = kt_ct(test, 1001), *b = kt_ct(test, 1002);
	u32 n = mutex_proxy_table_count(mpn);

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_MAX_CONNS,
						    n + 1, NULL), 0);
	kt_add(test, a);
	rcu_read_lock();
	mutex_proxy_table_add(mpn, b, NULL, MUTEX_ACTION_REDIRECT);
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, b));
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_TABLE_FULL), full + 1);
	KUNIT_EXPECT_EQ(test, refcount_read(&b->ct_general.use), 1u);

	/* Room again: the next flow is tracked. */
	kt_done(test, a);
	kt_add(test, b);
	kt_done(test, b);
}

static void mutex_proxy_kunit_table_gc(struct kunit *test)
{
	struct nf_conn *dying = kt_ct(test, 1010), *fresh = kt_ct(test, 1011);
	struct nf_conn *stale = kt_ct(test, 1012), *live = kt_ct(test, 1013);
	struct nf_conn *expired = kt_ct(test, 1014);
	struct mutex_proxy_net *mpn = kt_net();
	struct mutex_proxy_gc_run run;
	struct mutex_proxy_flow *flow;

	kt_add(test, dying);
	kt_decide(test, fresh, MUTEX_ACTION_REDIRECT);
	flow = kt_decide(test, stale, MUTEX_ACTION_REDIRECT);
	kt_add(test, live);
	kt_add(test, expired);
	set_bit(IPS_DYING_BIT, &dying->status);
	/* Pending long after its first packet: that packet was lost. */
	flow->start = jiffies - 10 * HZ;
	/* Tracked entries: one with time left, one whose time is up. */
	WRITE_ONCE(live->timeout, nfct_time_stamp + 100 * HZ);
	WRITE_ONCE(dying->timeout, nfct_time_stamp + 100 * HZ);
	WRITE_ONCE(expired->timeout, nfct_time_stamp - 1);

	mutex_proxy_table_gc(mpn, &run);
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, dying));
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, stale));
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, expired));
	KUNIT_EXPECT_NOT_NULL(test, mutex_proxy_table_lookup(mpn, fresh));
	KUNIT_EXPECT_NOT_NULL(test, mutex_proxy_table_lookup(mpn, live));
	rcu_read_unlock();

	kt_done(test, expired);
	kt_done(test, dying);
	kt_done(test, fresh);
	kt_done(test, stale);
	kt_done(test, live);
}

/*
 * A decision takes no reference on the unconfirmed entry; its first packet
 * is counted straight into the pending flow, outside every cache; the first
 * packet after confirmation makes the flow tracked (one reference).
 */
static void mutex_proxy_kunit_table_pending(struct kunit *test)
{
	struct nf_conn *ct = kt_ct(test, 1060);
	struct mutex_proxy_flow *flow;
	u64 hits, misses;

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_CACHE_SIZE,
						    16, NULL), 0);
	flow = kt_decide(test, ct, MUTEX_ACTION_REDIRECT);
	KUNIT_EXPECT_EQ(test, refcount_read(&ct->ct_general.use), 1u);

	hits = kt_stat(MUTEX_STATS_A_CACHE_HITS);
	kt_packet(ct, IP_CT_DIR_ORIGINAL, 60);
	KUNIT_EXPECT_FALSE(test, mutex_proxy_flow_tracked(flow));
	KUNIT_EXPECT_EQ(test, refcount_read(&ct->ct_general.use), 1u);
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->pkts[IP_CT_DIR_ORIGINAL]), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->bytes[IP_CT_DIR_ORIGINAL]), 60);

	/* Confirmed: the next packet tracks it, then the cache has it. */
	set_bit(IPS_CONFIRMED_BIT, &ct->status);
	WRITE_ONCE(ct->timeout, nfct_time_stamp + 1000 * HZ);
	misses = kt_stat(MUTEX_STATS_A_CACHE_MISSES);
	kt_packet(ct, IP_CT_DIR_REPLY, 40);
	KUNIT_EXPECT_TRUE(test, mutex_proxy_flow_tracked(flow));
	KUNIT_EXPECT_EQ(test, refcount_read(&ct->ct_general.use), 2u);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_MISSES), misses + 1);
	kt_packet(ct, IP_CT_DIR_REPLY, 40);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_HITS), hits + 1);
	mutex_proxy_account_flush_all();
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->pkts[IP_CT_DIR_REPLY]), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->bytes[IP_CT_DIR_REPLY]), 80);
	kt_done(test, ct);
}

/*
 * A pending flow whose entry was freed unconfirmed (its packet dropped) is
 * replaced by the decision for a new entry at the same address; without
 * room the stale one is removed all the same, never inherited.
 */
static void mutex_proxy_kunit_table_stale_replaced(struct kunit *test)
{
	struct mutex_proxy_net *mpn = kt_net();
	u64 ev = kt_stat(MUTEX_STATS_A_TABLE_EVICTIONS);
	struct nf_conn *ct = kt_ct(test, 1070);
	struct mutex_proxy_flow *old, *flow;
	u32 n = mutex_proxy_table_count(mpn);

	old = kt_decide(test, ct, MUTEX_ACTION_REDIRECT);
	flow = kt_decide(test, ct, MUTEX_ACTION_DNAT);
	KUNIT_EXPECT_PTR_NE(test, flow, old);
	KUNIT_EXPECT_EQ(test, flow->action, (u8)MUTEX_ACTION_DNAT);
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_count(mpn), n + 1);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_TABLE_EVICTIONS), ev + 1);
	KUNIT_EXPECT_EQ(test, refcount_read(&ct->ct_general.use), 1u);

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_MAX_CONNS,
						    n + 1, NULL), 0);
	rcu_read_lock();
	mutex_proxy_table_add(mpn, ct, NULL, MUTEX_ACTION_REDIRECT);
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, ct));
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_count(mpn), n);
	kt_done(test, ct);
}

/*
 * A full table asks the collector to make room: it evicts tracked flows
 * that never saw a reply, and keeps the ones that did and the ones that
 * have only just begun.
 */
static void mutex_proxy_kunit_table_evict_unreplied(struct kunit *test)
{
	struct nf_conn *replied = kt_ct(test, 1080), *silent = kt_ct(test, 1081);
	struct nf_conn *late = kt_ct(test, 1082), *fresh = kt_ct(test, 1083);
	struct mutex_proxy_net *mpn = kt_net();
	u32 n = mutex_proxy_table_count(mpn);
	struct mutex_proxy_gc_run run;

	/* Two flows older than a collector interval, and one just begun. */
	kt_add(test, replied)->start = jiffies - 10 * HZ;
	kt_add(test, silent)->start = jiffies - 10 * HZ;
	kt_add(test, fresh);
	set_bit(IPS_SEEN_REPLY_BIT, &replied->status);
	WRITE_ONCE(replied->timeout, nfct_time_stamp + 100 * HZ);
	WRITE_ONCE(silent->timeout, nfct_time_stamp + 100 * HZ);
	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_MAX_CONNS,
						    n + 3, NULL), 0);
	rcu_read_lock();
	mutex_proxy_table_add(mpn, late, NULL, MUTEX_ACTION_REDIRECT);
	rcu_read_unlock();

	/* The worker may be doing this right now as well. */
	mutex_proxy_table_gc(mpn, &run);
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, silent));
	KUNIT_EXPECT_NOT_NULL(test, mutex_proxy_table_lookup(mpn, replied));
	KUNIT_EXPECT_NOT_NULL(test, mutex_proxy_table_lookup(mpn, fresh));
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, atomic_read(&mpn->evict), 0);
	/* Room again for the next new flow. */
	kt_decide(test, late, MUTEX_ACTION_REDIRECT);
	kt_done(test, late);
	kt_done(test, fresh);
	kt_done(test, silent);
	kt_done(test, replied);
}

/*
 * A flush removes every flow, however many: the walk pauses every few
 * hundred entries, and the resumed walk must not skip any.
 */
static void mutex_proxy_kunit_table_flush_many(struct kunit *test)
{
	const unsigned int n = 1500;
	struct mutex_proxy_net *mpn = kt_net();
	struct nf_conn **cts;
	unsigned int i;
	u32 before;

	cts = kunit_kcalloc(test, n, sizeof(*cts), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cts);
	before = mutex_proxy_table_count(mpn);
	for (i = 0; i < n; i++) {
		cts[i] = kt_ct(test, 2000 + i);
		kt_add(test, cts[i]);
	}
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_count(mpn), before + n);
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_flush(mpn), (u64)before + n);
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_count(mpn), 0u);
	rcu_barrier();
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, refcount_read(&cts[i]->ct_general.use), 1u);
		nf_ct_put(cts[i]);
	}
}

/*
 * Removal costs the same however many CPUs there are: the remover only
 * unlinks the flow and lists it; caches and batches that still hold it let
 * go when the list is reaped, once per CPU for the whole list. Until then the
 * flow is not freed (its entry keeps the flow's reference) and packets of
 * it are no longer counted; the reap folds its batch, frees it, and a slot
 * that held it is clean (under KASAN, the next packet hashing to that slot
 * would touch freed memory). With more dead flows than cache slots the reap
 * looks at every slot instead.
 */
static void mutex_proxy_kunit_table_remove_reap(struct kunit *test)
{
	static const u32 sizes[] = { 1024, 2 };
	struct mutex_proxy_net *mpn = kt_net();
	struct mutex_proxy_flow *flow;
	struct nf_conn *cts[3], *other;
	unsigned int i, k;
	u64 pkts;

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_ENABLE_BATCHING,
						    1, NULL), 0);
	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_BATCH_SIZE,
						    64, NULL), 0);
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		KUNIT_ASSERT_EQ(test,
				mutex_proxy_param_set(MUTEX_PARAM_A_CACHE_SIZE,
						      sizes[k], NULL), 0);
		other = kt_ct(test, 1100 + 10 * k);
		kt_add(test, other);
		for (i = 0; i < ARRAY_SIZE(cts); i++) {
			cts[i] = kt_ct(test, 1101 + 10 * k + i);
			kt_add(test, cts[i]);
		}
		mutex_proxy_account_flush_all();
		pkts = kt_stat(MUTEX_STATS_A_PKTS_STEERED);
		/* Every flow in a slot; the last one's packet batched. */
		local_bh_disable();
		for (i = 0; i < ARRAY_SIZE(cts); i++)
			kt_packet(cts[i], IP_CT_DIR_ORIGINAL, 10);
		local_bh_enable();

		mutex_lock(&mpn->flows_lock);
		rcu_read_lock();
		for (i = 0; i < ARRAY_SIZE(cts); i++) {
			flow = mutex_proxy_table_lookup(mpn, cts[i]);
			KUNIT_ASSERT_NOT_NULL(test, flow);
			KUNIT_EXPECT_TRUE(test,
					  mutex_proxy_table_remove(mpn, flow));
		}
		rcu_read_unlock();
		KUNIT_EXPECT_EQ(test, mpn->ndead, (unsigned long)ARRAY_SIZE(cts));
		/* Not freed before the reap, however long one waits. */
		rcu_barrier();
		for (i = 0; i < ARRAY_SIZE(cts); i++)
			KUNIT_EXPECT_EQ(test,
					refcount_read(&cts[i]->ct_general.use),
					2u);
		/* A removed flow's packets count no more. */
		local_bh_disable();
		kt_packet(cts[0], IP_CT_DIR_ORIGINAL, 10);
		local_bh_enable();
		mutex_proxy_table_reap(mpn);
		KUNIT_EXPECT_EQ(test, mpn->ndead, 0ul);
		mutex_unlock(&mpn->flows_lock);
		/* The batched packets were folded by the reap at the latest. */
		mutex_proxy_account_flush_all();
		KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_PKTS_STEERED),
				pkts + ARRAY_SIZE(cts));
		rcu_barrier();
		for (i = 0; i < ARRAY_SIZE(cts); i++)
			KUNIT_EXPECT_EQ(test,
					refcount_read(&cts[i]->ct_general.use),
					1u);
		/* Another flow's packets through the same slots. */
		local_bh_disable();
		for (i = 0; i < 4; i++)
			kt_packet(other, IP_CT_DIR_REPLY, 10);
		local_bh_enable();
		for (i = 0; i < ARRAY_SIZE(cts); i++)
			kt_done(test, cts[i]);
		kt_done(test, other);
	}
}

/*
 * The collector looks at a share of the table per run, going on where the
 * last run stopped: a pass over a table of 3000 live flows takes three runs
 * of at most MUTEX_PROXY_GC_MIN_SCAN, each flow looked at once; a flow that
 * ended is removed within the pass. Its next run comes soon after a run that
 * found many ended flows, a second later otherwise.
 */
static void mutex_proxy_kunit_table_gc_bounded(struct kunit *test)
{
	const unsigned int n = 3000, quota = 1024;
	struct mutex_proxy_gc_run run = {}, r;
	struct mutex_proxy_net *mpn = kt_net();
	struct nf_conn **cts;
	unsigned int i, runs;
	u32 examined = 0;

	cts = kunit_kcalloc(test, n, sizeof(*cts), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cts);
	for (i = 0; i < n; i++) {
		cts[i] = kt_ct(test, 3000 + i);
		kt_add(test, cts[i]);
	}
	/* Only this case's runs from now on, from the start of a pass, on a
	 * table that is not being resized.
	 */
	cancel_delayed_work_sync(&mpn->gc);
	flush_work(&mpn->flows.run_work);
	for (runs = 0; !run.pass_done && runs < n; runs++)
		mutex_proxy_table_gc(mpn, &run);
	KUNIT_ASSERT_TRUE(test, run.pass_done);

	WRITE_ONCE(cts[n / 2]->timeout, nfct_time_stamp - 1);
	for (runs = 0, run.pass_done = false; !run.pass_done; runs++) {
		mutex_proxy_table_gc(mpn, &run);
		/* A run stops at the first flow that stays past its quota. */
		KUNIT_EXPECT_LE(test, run.examined, quota + run.removed);
		KUNIT_EXPECT_TRUE(test, run.pass_done || run.examined >= quota);
		examined += run.examined;
		KUNIT_ASSERT_LT(test, runs, 10u);
	}
	KUNIT_EXPECT_EQ(test, runs, 3u);
	KUNIT_EXPECT_EQ(test, examined, n);
	KUNIT_EXPECT_EQ(test, mutex_proxy_table_count(mpn), n - 1);
	rcu_read_lock();
	KUNIT_EXPECT_NULL(test, mutex_proxy_table_lookup(mpn, cts[n / 2]));
	rcu_read_unlock();

	r = (struct mutex_proxy_gc_run){ .examined = 1024, .removed = 1 };
	KUNIT_EXPECT_EQ(test, mutex_proxy_gc_delay(&r), (unsigned long)HZ);
	r.removed = 256;
	KUNIT_EXPECT_LT(test, mutex_proxy_gc_delay(&r), (unsigned long)HZ);
	r = (struct mutex_proxy_gc_run){};
	KUNIT_EXPECT_EQ(test, mutex_proxy_gc_delay(&r), (unsigned long)HZ);

	KUNIT_EXPECT_EQ(test, mutex_proxy_table_flush(mpn), (u64)n - 1);
	rcu_barrier();
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, refcount_read(&cts[i]->ct_general.use), 1u);
		clear_bit(IPS_CONFIRMED_BIT, &cts[i]->status);
		nf_ct_put(cts[i]);
	}
}

static void mutex_proxy_kunit_cache(struct kunit *test)
{
	u64 hits = kt_stat(MUTEX_STATS_A_CACHE_HITS);
	u64 misses = kt_stat(MUTEX_STATS_A_CACHE_MISSES);
	u64 pkts = kt_stat(MUTEX_STATS_A_PKTS_STEERED);
	u64 bytes = kt_stat(MUTEX_STATS_A_BYTES_STEERED);
	struct nf_conn *ct = kt_ct(test, 1020);
	struct mutex_proxy_flow *flow;

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_ENABLE_BATCHING,
						    0, NULL), 0);
	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_CACHE_SIZE,
						    1024, NULL), 0);
	flow = kt_add(test, ct);

	/* One CPU throughout: the cache is per CPU. */
	local_bh_disable();
	kt_packet(ct, IP_CT_DIR_ORIGINAL, 100);
	kt_packet(ct, IP_CT_DIR_REPLY, 60);
	kt_packet(ct, IP_CT_DIR_ORIGINAL, 100);
	local_bh_enable();

	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_MISSES), misses + 1);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_HITS), hits + 2);
	/* Batching off: counted at once. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->pkts[IP_CT_DIR_ORIGINAL]), 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->bytes[IP_CT_DIR_ORIGINAL]), 200);
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->pkts[IP_CT_DIR_REPLY]), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->bytes[IP_CT_DIR_REPLY]), 60);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_PKTS_STEERED), pkts + 3);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_BYTES_STEERED), bytes + 260);

	/* Invalidation: once removed, the cached flow is never used. */
	KUNIT_EXPECT_TRUE(test, kt_remove(ct));
	local_bh_disable();
	kt_packet(ct, IP_CT_DIR_ORIGINAL, 100);
	local_bh_enable();
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_HITS), hits + 2);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_MISSES), misses + 2);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_PKTS_STEERED), pkts + 3);
	kt_done(test, ct);
}

static void mutex_proxy_kunit_cache_resize(struct kunit *test)
{
	static const u32 sizes[] = { 16, 0, 1, 65536, 1024 };
	struct nf_conn *ct = kt_ct(test, 1030);
	struct mutex_proxy_flow *flow;
	u64 hits, misses;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_ENABLE_BATCHING,
						    0, NULL), 0);
	flow = kt_add(test, ct);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		KUNIT_ASSERT_EQ(test,
				mutex_proxy_param_set(MUTEX_PARAM_A_CACHE_SIZE,
						      sizes[i], NULL), 0);
		KUNIT_EXPECT_EQ(test,
				mutex_proxy_param_get(MUTEX_PARAM_A_CACHE_SIZE),
				sizes[i]);
		hits = kt_stat(MUTEX_STATS_A_CACHE_HITS);
		misses = kt_stat(MUTEX_STATS_A_CACHE_MISSES);
		local_bh_disable();
		kt_packet(ct, IP_CT_DIR_ORIGINAL, 1);
		kt_packet(ct, IP_CT_DIR_ORIGINAL, 1);
		local_bh_enable();
		/* A new cache is empty; no cache counts neither. */
		KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_MISSES),
				misses + (sizes[i] ? 1 : 0));
		KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_CACHE_HITS),
				hits + (sizes[i] ? 1 : 0));
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->pkts[IP_CT_DIR_ORIGINAL]),
			2 * ARRAY_SIZE(sizes));
	kt_done(test, ct);
}

static void mutex_proxy_kunit_batch(struct kunit *test)
{
	struct nf_conn *a = kt_ct(test, 1040), *b = kt_ct(test, 1041);
	u64 flushes = kt_stat(MUTEX_STATS_A_BATCH_FLUSHES);
	u64 pkts = kt_stat(MUTEX_STATS_A_PKTS_STEERED);
	struct mutex_proxy_flow *fa, *fb;
	int i;

	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_ENABLE_BATCHING,
						    1, NULL), 0);
	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_BATCH_SIZE,
						    4, NULL), 0);
	fa = kt_add(test, a);
	fb = kt_add(test, b);
	mutex_proxy_account_flush_all();
	flushes = kt_stat(MUTEX_STATS_A_BATCH_FLUSHES);

	local_bh_disable();
	for (i = 0; i < 3; i++)
		kt_packet(a, IP_CT_DIR_ORIGINAL, 10);
	local_bh_enable();
	/* Still in the batch... */
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->pkts[IP_CT_DIR_ORIGINAL]), 0);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_PKTS_STEERED), pkts);
	/* ...until a reader asks. */
	mutex_proxy_account_flush_all();
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->pkts[IP_CT_DIR_ORIGINAL]), 3);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->bytes[IP_CT_DIR_ORIGINAL]), 30);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_PKTS_STEERED), pkts + 3);
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_BATCH_FLUSHES), flushes + 1);

	/* A full batch folds by itself; the rest waits. */
	local_bh_disable();
	for (i = 0; i < 6; i++)
		kt_packet(a, i % 2 ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL, 10);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->pkts[IP_CT_DIR_ORIGINAL]), 5);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->pkts[IP_CT_DIR_REPLY]), 2);
	/* Another flow's packet folds the batch of the first. */
	kt_packet(b, IP_CT_DIR_REPLY, 7);
	local_bh_enable();
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->pkts[IP_CT_DIR_ORIGINAL]), 6);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->pkts[IP_CT_DIR_REPLY]), 3);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fb->pkts[IP_CT_DIR_REPLY]), 0);

	/* Removing a flow folds what is batched for it: nothing is lost. */
	pkts = kt_stat(MUTEX_STATS_A_PKTS_STEERED);
	KUNIT_EXPECT_TRUE(test, kt_remove(b));
	KUNIT_EXPECT_EQ(test, kt_stat(MUTEX_STATS_A_PKTS_STEERED), pkts + 1);

	/* Batching off: every packet at once. */
	KUNIT_ASSERT_EQ(test, mutex_proxy_param_set(MUTEX_PARAM_A_ENABLE_BATCHING,
						    0, NULL), 0);
	kt_packet(a, IP_CT_DIR_ORIGINAL, 10);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fa->pkts[IP_CT_DIR_ORIGINAL]), 7);
	kt_done(test, a);
	kt_done(test, b);
}

struct kt_sender {
	struct nf_conn *ct;
	unsigned long sent;
};

static int kt_send(void *data)
{
	struct kt_sender *s = data;

	while (!kthread_should_stop()) {
		kt_packet(s->ct, s->sent % 3 ? IP_CT_DIR_ORIGINAL :
					       IP_CT_DIR_REPLY, 100);
		s->sent++;
		if (!(s->sent % 64))
			cond_resched();
	}
	return 0;
}

/*
 * Packets on every CPU while the cache is resized and batching switched:
 * every packet is counted exactly once, and (under KASAN) nothing touches
 * freed memory. Then the flow is removed while packets still come.
 */
static void mutex_proxy_kunit_concurrent(struct kunit *test)
{
	static const u32 sizes[] = { 1024, 0, 16, 1, 4096 };
	struct kt_sender s[2] = {};
	struct task_struct *t[2];
	struct mutex_proxy_flow *flow;
	struct nf_conn *ct = kt_ct(test, 1050);
	unsigned long end;
	u64 total;
	int i, k = 0;

	flow = kt_add(test, ct);
	for (i = 0; i < 2; i++) {
		s[i].ct = ct;
		t[i] = kthread_run(kt_send, &s[i], "mutex_proxy_kt%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[i]));
	}
	end = jiffies + msecs_to_jiffies(500);
	while (time_before(jiffies, end)) {
		KUNIT_EXPECT_EQ(test,
				mutex_proxy_param_set(MUTEX_PARAM_A_CACHE_SIZE,
						      sizes[k % ARRAY_SIZE(sizes)],
						      NULL), 0);
		KUNIT_EXPECT_EQ(test,
				mutex_proxy_param_set(MUTEX_PARAM_A_ENABLE_BATCHING,
						      k % 2, NULL), 0);
		mutex_proxy_account_flush_all();
		k++;
		usleep_range(1000, 2000);
	}
	for (i = 0; i < 2; i++)
		kthread_stop(t[i]);
	mutex_proxy_account_flush_all();
	total = atomic64_read(&flow->pkts[IP_CT_DIR_ORIGINAL]) +
		atomic64_read(&flow->pkts[IP_CT_DIR_REPLY]);
	KUNIT_EXPECT_EQ(test, total, (u64)(s[0].sent + s[1].sent));
	KUNIT_EXPECT_EQ(test, atomic64_read(&flow->bytes[IP_CT_DIR_ORIGINAL]) +
			atomic64_read(&flow->bytes[IP_CT_DIR_REPLY]),
			100 * total);
	KUNIT_EXPECT_GT(test, total, 0ULL);

	/* Removal while packets come: they stop being counted, safely. */
	for (i = 0; i < 2; i++) {
		s[i].sent = 0;
		t[i] = kthread_run(kt_send, &s[i], "mutex_proxy_kt%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t[i]));
	}
	msleep(50);
	KUNIT_EXPECT_TRUE(test, kt_remove(ct));
	msleep(50);
	for (i = 0; i < 2; i++)
		kthread_stop(t[i]);
	kt_done(test, ct);
}

static struct kunit_case mutex_proxy_kunit_table_cases[] = {
	KUNIT_CASE(mutex_proxy_kunit_table_basic),
	KUNIT_CASE(mutex_proxy_kunit_table_full),
	KUNIT_CASE(mutex_proxy_kunit_table_gc),
	KUNIT_CASE(mutex_proxy_kunit_table_pending),
	KUNIT_CASE(mutex_proxy_kunit_table_stale_replaced),
	KUNIT_CASE(mutex_proxy_kunit_table_evict_unreplied),
	KUNIT_CASE(mutex_proxy_kunit_table_flush_many),
	KUNIT_CASE(mutex_proxy_kunit_table_remove_reap),
	KUNIT_CASE(mutex_proxy_kunit_table_gc_bounded),
	KUNIT_CASE(mutex_proxy_kunit_cache),
	KUNIT_CASE(mutex_proxy_kunit_cache_resize),
	KUNIT_CASE(mutex_proxy_kunit_batch),
	KUNIT_CASE(mutex_proxy_kunit_concurrent),
	{}
};

static struct kunit_suite mutex_proxy_kunit_table_suite = {
	.name = "mutex_proxy_table",
	.init = kt_init,
	.exit = kt_exit,
	.test_cases = mutex_proxy_kunit_table_cases,
};

kunit_test_suite(mutex_proxy_kunit_table_suite);
