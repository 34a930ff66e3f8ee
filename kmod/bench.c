// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: what the module's mechanisms buy, measured in the kernel on
 * the module's own code (tests/bench/mechanisms.sh runs it). Built only with
 * MUTEX_PROXY_BENCH=y: the production module carries none of this.
 *
 * /sys/kernel/debug/mutex_proxy/bench takes one command per write and runs
 * it before the write returns; reading the file gives the result of the
 * last one. A command is
 *
 *	CASE VARIANT CPUS OPS [ARGS]
 *
 * and runs OPS operations on each of CPUS CPUs (1 or 2: threads bound to
 * CPUs 0 and 1, released together), each thread timed on its own:
 *
 *	cache hit|table|lookup CPUS OPS FLOWS FILL
 *		account one packet (mutex_proxy_account_packet(), as the hooks
 *		do) of each of FLOWS tracked flows in turn, FILL more flows in
 *		the table: with a per-CPU cache of 4096 entries (hit), without
 *		a cache (table: each packet looks its flow up in the connection
 *		table); lookup is the table lookup alone, under RCU.
 *	slab slab|kmalloc CPUS OPS
 *		allocate and free one flow, in bursts of 16 with BH disabled and
 *		GFP_ATOMIC as the packet path allocates: from the flows'
 *		kmem_cache, or with kmalloc() of the same size.
 *	snapshot rcu|rwlock|spinlock CPUS OPS classify|peek DADDR DPORT
 *		read init_net's configuration: the classifier on a TCP flow to
 *		DADDR:DPORT (classify) or the rule count alone (peek); under
 *		rcu_read_lock() as the module reads it, or under a reader-writer
 *		lock or a spinlock (BH disabled: softirqs and process-context
 *		senders would share it) as a design without RCU would.
 *	batch on|off CPUS OPS
 *		account packets of one bulk flow (thread 0 one direction,
 *		thread 1 the other), cache on: in batches of 32 packets (on), or
 *		each packet folded into the shared counters at once (off).
 *
 * The result is one line:
 *
 *	CASE VARIANT cpus=N ops=OPS ns=T0[,T1] hits=H misses=M fails=F
 *
 * with each thread's elapsed nanoseconds, the cache hits and misses of the
 * run (cache and batch), and failed allocations (slab). Parameters a run
 * changes are put back after it; its flows are its own (a table of a
 * namespace state that is not a namespace's, and conntrack entries never
 * in conntrack's hash), so no live flow is touched.
 */
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/inet.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_zones.h>

#include "account.h"
#include "bench.h"
#include "classify.h"
#include "config.h"
#include "counters.h"
#include "net.h"
#include "params.h"
#include "stats.h"
#include "table.h"

#define MUTEX_PROXY_BENCH_CPUS		2
#define MUTEX_PROXY_BENCH_BURST		16
#define MUTEX_PROXY_BENCH_CACHE		4096
#define MUTEX_PROXY_BENCH_BATCH		32
#define MUTEX_PROXY_BENCH_FLOWS_MAX	1000000
#define MUTEX_PROXY_BENCH_OPS_MAX	100000000ULL
#define MUTEX_PROXY_BENCH_CMD_MAX	128
#define MUTEX_PROXY_BENCH_OUT_MAX	192

enum mutex_proxy_bench_what {
	MUTEX_PROXY_BENCH_CACHE_HIT,
	MUTEX_PROXY_BENCH_CACHE_TABLE,
	MUTEX_PROXY_BENCH_CACHE_LOOKUP,
	MUTEX_PROXY_BENCH_SLAB_SLAB,
	MUTEX_PROXY_BENCH_SLAB_KMALLOC,
	MUTEX_PROXY_BENCH_SNAP_RCU,
	MUTEX_PROXY_BENCH_SNAP_RWLOCK,
	MUTEX_PROXY_BENCH_SNAP_SPINLOCK,
	MUTEX_PROXY_BENCH_BATCH_ON,
	MUTEX_PROXY_BENCH_BATCH_OFF,
};

static const struct {
	const char *name;	/* "CASE VARIANT" */
	unsigned int args;	/* arguments after OPS */
} mutex_proxy_bench_cmds[] = {
	[MUTEX_PROXY_BENCH_CACHE_HIT]		= { "cache hit", 2 },
	[MUTEX_PROXY_BENCH_CACHE_TABLE]		= { "cache table", 2 },
	[MUTEX_PROXY_BENCH_CACHE_LOOKUP]	= { "cache lookup", 2 },
	[MUTEX_PROXY_BENCH_SLAB_SLAB]		= { "slab slab", 0 },
	[MUTEX_PROXY_BENCH_SLAB_KMALLOC]	= { "slab kmalloc", 0 },
	[MUTEX_PROXY_BENCH_SNAP_RCU]		= { "snapshot rcu", 3 },
	[MUTEX_PROXY_BENCH_SNAP_RWLOCK]		= { "snapshot rwlock", 3 },
	[MUTEX_PROXY_BENCH_SNAP_SPINLOCK]	= { "snapshot spinlock", 3 },
	[MUTEX_PROXY_BENCH_BATCH_ON]		= { "batch on", 0 },
	[MUTEX_PROXY_BENCH_BATCH_OFF]		= { "batch off", 0 },
};

struct mutex_proxy_bench_run;

/**
 * struct mutex_proxy_bench_thread - one CPU's share of a run
 * @run: the run
 * @idx: 0 or 1 (its CPU, and the direction of its packets)
 * @ns: elapsed time of its operations
 * @fails: allocations that failed
 * @sink: results folded so that no read is optimized away
 * @done: completed when it is finished
 */
struct mutex_proxy_bench_thread {
	struct mutex_proxy_bench_run *run;
	unsigned int idx;
	u64 ns;
	u64 fails;
	unsigned long sink;
	struct completion done;
};

/**
 * struct mutex_proxy_bench_run - one command
 * @what: enum mutex_proxy_bench_what
 * @cpus: threads (1 or 2)
 * @ops: operations per thread
 * @n_flows: flows accounted in turn (cache, batch)
 * @n_all: flows in the table, @n_flows first
 * @mpn: namespace state of the run's own table (cache, batch)
 * @cts: conntrack entries of its flows, @n_all of them
 * @be: the backend its flows are steered to (its counters are folded)
 * @cfg_mpn: init_net's state (snapshot)
 * @key: the flow classified (snapshot)
 * @peek: read the rule count only (snapshot)
 * @start: released threads start their operations
 * @thr: the threads
 */
struct mutex_proxy_bench_run {
	unsigned int what;
	unsigned int cpus;
	u64 ops;
	u32 n_flows;
	u32 n_all;
	struct mutex_proxy_net *mpn;
	struct nf_conn **cts;
	struct mutex_proxy_backend be;
	struct mutex_proxy_net *cfg_mpn;
	struct mutex_proxy_key key;
	bool peek;
	struct completion start;
	struct mutex_proxy_bench_thread thr[MUTEX_PROXY_BENCH_CPUS];
};

/* The locks a design without RCU would read the configuration under. */
static DEFINE_RWLOCK(mutex_proxy_bench_rwlock);
static DEFINE_SPINLOCK(mutex_proxy_bench_spinlock);

/* One command at a time; guards the result too. */
static DEFINE_MUTEX(mutex_proxy_bench_lock);
static char mutex_proxy_bench_out[MUTEX_PROXY_BENCH_OUT_MAX];
static struct dentry *mutex_proxy_bench_dir;

/* A conntrack entry of 10.0.0.0 + @i:40000 -> 192.0.2.2:80, one reference. */
static struct nf_conn *mutex_proxy_bench_ct(u32 i)
{
	struct nf_conntrack_tuple t = {}, r = {};
	struct nf_conn *ct;

	t.src.l3num = NFPROTO_IPV4;
	t.dst.protonum = IPPROTO_TCP;
	t.src.u3.ip = htonl(0x0a000000 + i);
	t.dst.u3.ip = htonl(0xc0000202);
	t.src.u.all = htons(40000);
	t.dst.u.all = htons(80);
	r.src.l3num = NFPROTO_IPV4;
	r.dst.protonum = IPPROTO_TCP;
	r.src.u3 = t.dst.u3;
	r.dst.u3 = t.src.u3;
	r.src.u.all = t.dst.u.all;
	r.dst.u.all = t.src.u.all;
	r.dst.dir = IP_CT_DIR_REPLY;

	ct = nf_conntrack_alloc(&init_net, &nf_ct_zone_dflt, &t, &r, GFP_KERNEL);
	if (IS_ERR_OR_NULL(ct))
		return NULL;
	/* As init_conntrack() does before the entry meets an skb. */
	refcount_set(&ct->ct_general.use, 1);
	return ct;
}

/* Drop the run's conntrack entries (their flows are freed already). */
static void mutex_proxy_bench_put_cts(struct mutex_proxy_bench_run *run,
				      u32 n)
{
	while (n--) {
		/* Never in conntrack's hash: freed as unconfirmed. */
		clear_bit(IPS_CONFIRMED_BIT, &run->cts[n]->status);
		nf_ct_put(run->cts[n]);
	}
	kvfree(run->cts);
	run->cts = NULL;
}

/* Tear down the run's table: its flows, their entries, its state. */
static void mutex_proxy_bench_flows_free(struct mutex_proxy_bench_run *run,
					 u32 n_cts)
{
	mutex_proxy_net_state_exit(run->mpn);
	/* The flows are freed by RCU callbacks, which drop their entries. */
	rcu_barrier();
	mutex_proxy_bench_put_cts(run, n_cts);
	mutex_proxy_backend_ctr_put(run->be.ctr);
	kfree(run->mpn);
	run->mpn = NULL;
}

/*
 * A table of its own with @run->n_all tracked DNAT flows to @run->be, as
 * the packet path leaves them: decided on the entry's first packet, then
 * tracked once it is confirmed.
 */
static int mutex_proxy_bench_flows(struct mutex_proxy_bench_run *run)
{
	struct mutex_proxy_flow *flow;
	struct mutex_proxy_net *mpn;
	u32 i;
	int err = -ENOMEM;

	run->cts = kvcalloc(run->n_all, sizeof(*run->cts), GFP_KERNEL);
	mpn = kzalloc(sizeof(*mpn), GFP_KERNEL);
	run->be.ctr = mutex_proxy_backend_ctr_new();
	if (!run->cts || !mpn || !run->be.ctr)
		goto err_alloc;
	err = mutex_proxy_net_state_init(mpn, &init_net);
	if (err)
		goto err_alloc;
	run->mpn = mpn;

	for (i = 0; i < run->n_all; i++) {
		struct nf_conn *ct = mutex_proxy_bench_ct(i);

		if (!ct) {
			err = -ENOMEM;
			goto err_flows;
		}
		run->cts[i] = ct;
		rcu_read_lock();
		mutex_proxy_table_add(mpn, ct, &run->be, MUTEX_ACTION_DNAT);
		flow = mutex_proxy_table_lookup(mpn, ct);
		set_bit(IPS_CONFIRMED_BIT, &ct->status);
		/* Confirmed entries have an absolute timeout: far away. */
		WRITE_ONCE(ct->timeout, nfct_time_stamp + 100000 * HZ);
		if (flow)
			mutex_proxy_table_track(flow, ct);
		rcu_read_unlock();
		if (!flow) {
			i++;
			err = -ENOMEM;
			goto err_flows;
		}
		if (!(i & 1023))
			cond_resched();
	}
	return 0;

err_flows:
	mutex_proxy_bench_flows_free(run, i);
	return err;
err_alloc:
	kfree(mpn);
	mutex_proxy_backend_ctr_put(run->be.ctr);
	kvfree(run->cts);
	run->cts = NULL;
	return err;
}

static void mutex_proxy_bench_account(struct mutex_proxy_bench_thread *t)
{
	struct mutex_proxy_bench_run *run = t->run;
	u32 k = 0;
	u64 i;

	for (i = 0; i < run->ops; i++) {
		rcu_read_lock();
		mutex_proxy_account_packet(run->mpn, run->cts[k], t->idx, 1000);
		rcu_read_unlock();
		if (++k == run->n_flows)
			k = 0;
		if (!(i & 1023))
			cond_resched();
	}
}

static void mutex_proxy_bench_lookup(struct mutex_proxy_bench_thread *t)
{
	struct mutex_proxy_bench_run *run = t->run;
	u32 k = 0;
	u64 i;

	for (i = 0; i < run->ops; i++) {
		rcu_read_lock();
		t->sink += (unsigned long)mutex_proxy_table_lookup(run->mpn,
								   run->cts[k]);
		rcu_read_unlock();
		if (++k == run->n_flows)
			k = 0;
		if (!(i & 1023))
			cond_resched();
	}
}

static void mutex_proxy_bench_slab(struct mutex_proxy_bench_thread *t)
{
	struct kmem_cache *cache = mutex_proxy_table_flow_slab();
	bool slab = t->run->what == MUTEX_PROXY_BENCH_SLAB_SLAB;
	void *obj[MUTEX_PROXY_BENCH_BURST];
	unsigned int j;
	u64 i;

	for (i = 0; i < t->run->ops; i += MUTEX_PROXY_BENCH_BURST) {
		local_bh_disable();
		for (j = 0; j < MUTEX_PROXY_BENCH_BURST; j++)
			obj[j] = slab ? kmem_cache_alloc(cache, GFP_ATOMIC) :
				 kmalloc(sizeof(struct mutex_proxy_flow),
					 GFP_ATOMIC);
		for (j = 0; j < MUTEX_PROXY_BENCH_BURST; j++) {
			if (!obj[j])
				t->fails++;
			else if (slab)
				kmem_cache_free(cache, obj[j]);
			else
				kfree(obj[j]);
		}
		local_bh_enable();
		if (!(i & 1023))
			cond_resched();
	}
}

/* The read of the snapshot that the three variants share. */
static unsigned long
mutex_proxy_bench_read(const struct mutex_proxy_bench_run *run,
		       const struct mutex_proxy_config *cfg)
{
	if (run->peek)
		return cfg ? cfg->n_rules : 0;
	return (unsigned long)mutex_proxy_classify(cfg, &run->key);
}

static void mutex_proxy_bench_snapshot(struct mutex_proxy_bench_thread *t)
{
	struct mutex_proxy_bench_run *run = t->run;
	struct mutex_proxy_net *mpn = run->cfg_mpn;
	const struct mutex_proxy_config *cfg;
	u64 i;

	/* The configuration cannot change meanwhile: the run holds the
	 * writers' lock (mutex_proxy_bench_write()). Under the two locks it is
	 * read as a design without RCU would read it: as a plain pointer.
	 */
	for (i = 0; i < run->ops; i++) {
		switch (run->what) {
		case MUTEX_PROXY_BENCH_SNAP_RCU:
			rcu_read_lock();
			cfg = rcu_dereference(mpn->config);
			t->sink += mutex_proxy_bench_read(run, cfg);
			rcu_read_unlock();
			break;
		case MUTEX_PROXY_BENCH_SNAP_RWLOCK:
			read_lock(&mutex_proxy_bench_rwlock);
			cfg = rcu_dereference_raw(mpn->config);
			t->sink += mutex_proxy_bench_read(run, cfg);
			read_unlock(&mutex_proxy_bench_rwlock);
			break;
		default:
			spin_lock_bh(&mutex_proxy_bench_spinlock);
			cfg = rcu_dereference_raw(mpn->config);
			t->sink += mutex_proxy_bench_read(run, cfg);
			spin_unlock_bh(&mutex_proxy_bench_spinlock);
			break;
		}
		if (!(i & 1023))
			cond_resched();
	}
}

static int mutex_proxy_bench_thread_fn(void *arg)
{
	struct mutex_proxy_bench_thread *t = arg;
	struct mutex_proxy_bench_run *run = t->run;
	u64 t0;

	wait_for_completion(&run->start);
	t0 = ktime_get_ns();
	switch (run->what) {
	case MUTEX_PROXY_BENCH_CACHE_HIT:
	case MUTEX_PROXY_BENCH_CACHE_TABLE:
	case MUTEX_PROXY_BENCH_BATCH_ON:
	case MUTEX_PROXY_BENCH_BATCH_OFF:
		mutex_proxy_bench_account(t);
		break;
	case MUTEX_PROXY_BENCH_CACHE_LOOKUP:
		mutex_proxy_bench_lookup(t);
		break;
	case MUTEX_PROXY_BENCH_SLAB_SLAB:
	case MUTEX_PROXY_BENCH_SLAB_KMALLOC:
		mutex_proxy_bench_slab(t);
		break;
	default:
		mutex_proxy_bench_snapshot(t);
		break;
	}
	t->ns = ktime_get_ns() - t0;
	kthread_complete_and_exit(&t->done, 0);
}

/* Start the run's threads on CPUs 0 and 1, release them, wait for them. */
static int mutex_proxy_bench_threads(struct mutex_proxy_bench_run *run)
{
	struct task_struct *task;
	unsigned int i, started = 0;
	int err = 0;

	init_completion(&run->start);
	for (i = 0; i < run->cpus; i++) {
		struct mutex_proxy_bench_thread *t = &run->thr[i];

		t->run = run;
		t->idx = i;
		init_completion(&t->done);
		task = kthread_create(mutex_proxy_bench_thread_fn, t,
				      "mutex_proxy_bench/%u", i);
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			break;
		}
		kthread_bind(task, i);
		wake_up_process(task);
		started++;
	}
	/* Threads already started run too (a failed run is still a whole
	 * one for them), then the error is reported.
	 */
	complete_all(&run->start);
	for (i = 0; i < started; i++)
		wait_for_completion(&run->thr[i].done);
	return err;
}

/* Set the parameters a run needs; the old values go into @saved. */
static int mutex_proxy_bench_params(const struct mutex_proxy_bench_run *run,
				    struct mutex_proxy_param_update *saved)
{
	struct mutex_proxy_param_update upd = {};
	struct mutex_proxy_params now;
	unsigned int id;
	int err;

	switch (run->what) {
	case MUTEX_PROXY_BENCH_CACHE_HIT:
	case MUTEX_PROXY_BENCH_CACHE_TABLE:
	case MUTEX_PROXY_BENCH_BATCH_ON:
	case MUTEX_PROXY_BENCH_BATCH_OFF:
		upd.mask = BIT(MUTEX_PARAM_A_ENABLE_BATCHING) |
			   BIT(MUTEX_PARAM_A_BATCH_SIZE) |
			   BIT(MUTEX_PARAM_A_CACHE_SIZE) |
			   BIT(MUTEX_PARAM_A_MAX_CONNS) |
			   BIT(MUTEX_PARAM_A_ENABLE_ACCOUNTING);
		upd.val[MUTEX_PARAM_A_ENABLE_BATCHING] =
			run->what != MUTEX_PROXY_BENCH_BATCH_OFF;
		upd.val[MUTEX_PARAM_A_BATCH_SIZE] = MUTEX_PROXY_BENCH_BATCH;
		upd.val[MUTEX_PARAM_A_CACHE_SIZE] =
			run->what == MUTEX_PROXY_BENCH_CACHE_TABLE ?
			0 : MUTEX_PROXY_BENCH_CACHE;
		upd.val[MUTEX_PARAM_A_MAX_CONNS] =
			max_t(u32, run->n_all, MUTEX_MAX_CONNS_MIN);
		upd.val[MUTEX_PARAM_A_ENABLE_ACCOUNTING] = 1;
		break;
	default:
		saved->mask = 0;
		return 0;
	}
	mutex_proxy_params_get(&now);
	saved->mask = upd.mask;
	for (id = 0; id <= MUTEX_PARAM_A_MAX; id++)
		saved->val[id] = now.val[id];
	err = mutex_proxy_params_update(&upd, NULL, NULL, NULL);
	if (err)
		saved->mask = 0;
	return err;
}

/* Parse "CASE VARIANT CPUS OPS [ARGS]" into @run. */
static int mutex_proxy_bench_parse(char *cmd, struct mutex_proxy_bench_run *run)
{
	char *tok[8], *p = strim(cmd), *s;
	unsigned int n = 0, i, what;
	char name[32];
	u32 v[2];

	while ((s = strsep(&p, " \t")) && n < ARRAY_SIZE(tok))
		if (*s)
			tok[n++] = s;
	if (s || n < 4)
		return -EINVAL;
	snprintf(name, sizeof(name), "%s %s", tok[0], tok[1]);
	for (what = 0; what < ARRAY_SIZE(mutex_proxy_bench_cmds); what++)
		if (!strcmp(name, mutex_proxy_bench_cmds[what].name))
			break;
	if (what == ARRAY_SIZE(mutex_proxy_bench_cmds) ||
	    n != 4 + mutex_proxy_bench_cmds[what].args)
		return -EINVAL;
	run->what = what;
	if (kstrtouint(tok[2], 10, &run->cpus) || !run->cpus ||
	    run->cpus > MUTEX_PROXY_BENCH_CPUS || run->cpus > num_online_cpus())
		return -EINVAL;
	for (i = 0; i < run->cpus; i++)
		if (!cpu_online(i))
			return -EINVAL;
	if (kstrtou64(tok[3], 10, &run->ops) || !run->ops ||
	    run->ops > MUTEX_PROXY_BENCH_OPS_MAX ||
	    run->ops % MUTEX_PROXY_BENCH_BURST)
		return -EINVAL;

	switch (what) {
	case MUTEX_PROXY_BENCH_CACHE_HIT:
	case MUTEX_PROXY_BENCH_CACHE_TABLE:
	case MUTEX_PROXY_BENCH_CACHE_LOOKUP:
		if (kstrtou32(tok[4], 10, &v[0]) || kstrtou32(tok[5], 10, &v[1]) ||
		    !v[0] || v[0] > MUTEX_PROXY_BENCH_FLOWS_MAX ||
		    v[1] > MUTEX_PROXY_BENCH_FLOWS_MAX - v[0])
			return -EINVAL;
		run->n_flows = v[0];
		run->n_all = v[0] + v[1];
		break;
	case MUTEX_PROXY_BENCH_BATCH_ON:
	case MUTEX_PROXY_BENCH_BATCH_OFF:
		run->n_flows = 1;
		run->n_all = 1;
		break;
	case MUTEX_PROXY_BENCH_SNAP_RCU:
	case MUTEX_PROXY_BENCH_SNAP_RWLOCK:
	case MUTEX_PROXY_BENCH_SNAP_SPINLOCK:
		if (!strcmp(tok[4], "peek"))
			run->peek = true;
		else if (strcmp(tok[4], "classify"))
			return -EINVAL;
		run->key.family = AF_INET;
		run->key.proto = IPPROTO_TCP;
		run->key.saddr.ip = htonl(0xc0000201);
		run->key.sport = 40000;
		if (!in4_pton(tok[5], -1, (u8 *)&run->key.daddr.ip, -1, NULL) ||
		    kstrtou16(tok[6], 10, &run->key.dport))
			return -EINVAL;
		break;
	}
	return 0;
}

/* Run @run; its result goes into mutex_proxy_bench_out. Sleeps. */
static int mutex_proxy_bench_exec(struct mutex_proxy_bench_run *run)
{
	struct mutex_proxy_param_update saved;
	struct mutex_proxy_stats_sum sum;
	u64 hits = 0, misses = 0, fails = 0;
	bool flows = run->n_all > 0;
	bool snapshot = run->what == MUTEX_PROXY_BENCH_SNAP_RCU ||
			run->what == MUTEX_PROXY_BENCH_SNAP_RWLOCK ||
			run->what == MUTEX_PROXY_BENCH_SNAP_SPINLOCK;
	int err, len;

	err = mutex_proxy_bench_params(run, &saved);
	if (err)
		return err;
	if (flows) {
		err = mutex_proxy_bench_flows(run);
		if (err)
			goto out;
	} else if (snapshot) {
		run->cfg_mpn = mutex_proxy_pernet(&init_net);
		/* No configuration writer while it is read. */
		mutex_lock(&run->cfg_mpn->config_lock);
	}

	err = mutex_proxy_bench_threads(run);

	if (flows) {
		mutex_proxy_account_flush_all();
		mutex_proxy_stats_sum(run->mpn->stats, &sum);
		hits = sum.cnt[MUTEX_STATS_A_CACHE_HITS - MUTEX_PROXY_STAT_FIRST];
		misses = sum.cnt[MUTEX_STATS_A_CACHE_MISSES -
				 MUTEX_PROXY_STAT_FIRST];
		mutex_proxy_bench_flows_free(run, run->n_all);
	} else if (run->cfg_mpn) {
		mutex_unlock(&run->cfg_mpn->config_lock);
	}
	if (err)
		goto out;

	fails = run->thr[0].fails + run->thr[1].fails;
	len = snprintf(mutex_proxy_bench_out, sizeof(mutex_proxy_bench_out),
		       "%s cpus=%u ops=%llu ns=%llu",
		       mutex_proxy_bench_cmds[run->what].name, run->cpus,
		       run->ops, run->thr[0].ns);
	if (run->cpus > 1)
		len += snprintf(mutex_proxy_bench_out + len,
				sizeof(mutex_proxy_bench_out) - len, ",%llu",
				run->thr[1].ns);
	snprintf(mutex_proxy_bench_out + len,
		 sizeof(mutex_proxy_bench_out) - len,
		 " hits=%llu misses=%llu fails=%llu sink=%lu\n", hits, misses,
		 fails, (run->thr[0].sink + run->thr[1].sink) & 1);
out:
	if (saved.mask)
		mutex_proxy_params_update(&saved, NULL, NULL, NULL);
	return err;
}

static ssize_t mutex_proxy_bench_write(struct file *file,
				       const char __user *ubuf, size_t len,
				       loff_t *ppos)
{
	struct mutex_proxy_bench_run *run;
	char cmd[MUTEX_PROXY_BENCH_CMD_MAX];
	int err;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	err = mutex_proxy_bench_parse(cmd, run);
	if (!err) {
		mutex_lock(&mutex_proxy_bench_lock);
		mutex_proxy_bench_out[0] = '\0';
		err = mutex_proxy_bench_exec(run);
		mutex_unlock(&mutex_proxy_bench_lock);
	}
	kfree(run);
	return err ? err : len;
}

static ssize_t mutex_proxy_bench_read_out(struct file *file, char __user *ubuf,
					  size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&mutex_proxy_bench_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, mutex_proxy_bench_out,
				      strlen(mutex_proxy_bench_out));
	mutex_unlock(&mutex_proxy_bench_lock);
	return ret;
}

static const struct file_operations mutex_proxy_bench_fops = {
	.owner	= THIS_MODULE,
	.read	= mutex_proxy_bench_read_out,
	.write	= mutex_proxy_bench_write,
	.llseek	= default_llseek,
};

/**
 * mutex_proxy_bench_init() - create /sys/kernel/debug/mutex_proxy/bench
 *
 * A kernel without debugfs just has no trigger.
 */
void mutex_proxy_bench_init(void)
{
	pr_notice("benchmark build: /sys/kernel/debug/mutex_proxy/bench runs measurements; not for production\n");
	mutex_proxy_bench_dir = debugfs_create_dir("mutex_proxy", NULL);
	debugfs_create_file("bench", 0600, mutex_proxy_bench_dir, NULL,
			    &mutex_proxy_bench_fops);
}

/**
 * mutex_proxy_bench_exit() - remove the trigger; waits for a running command
 */
void mutex_proxy_bench_exit(void)
{
	debugfs_remove(mutex_proxy_bench_dir);
}
