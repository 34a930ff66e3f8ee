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

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/mutex_proxy.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack_labels.h>
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
#if IS_ENABLED(CONFIG_KUNIT)
int mutex_proxy_param_validate(enum mutex_param_attr id, u32 val,
			       const char **msg);
int mutex_proxy_param_parse(enum mutex_param_attr id, const char *str,
			    u32 *val, const char **msg);
#endif
int mutex_proxy_params_update(const struct mutex_proxy_param_update *upd,
			      struct mutex_proxy_params *now,
			      enum mutex_param_attr *bad, const char **msg);
#if IS_ENABLED(CONFIG_KUNIT)
int mutex_proxy_param_set(enum mutex_param_attr id, u32 val,
			  const char **msg);
#endif
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

/*
 * Allocations of a SET_CONFIG (snapshot, rules, classifier, backends,
 * counters, cgroup paths): charged to the memory cgroup of whoever sets the
 * configuration, and failing rather than OOM-killing to make room: a
 * configuration too large for its cgroup is refused with -ENOMEM and the
 * running one stays.
 */
#define MUTEX_PROXY_GFP_CONFIG	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL)

/* ---- cgroup v2 path matches (cgroup.c) ---- */

struct cgroup;
struct mutex_proxy_cgroup_match;
struct sock;

struct mutex_proxy_cgroup_match *
mutex_proxy_cgroup_match_new(const char *path, const char **msg);
void mutex_proxy_cgroup_match_free(struct mutex_proxy_cgroup_match *m);
bool mutex_proxy_cgroup_match_sk(struct mutex_proxy_cgroup_match *m,
				 struct sock *sk);
const struct cgroup *
mutex_proxy_cgroup_match_root(const struct mutex_proxy_cgroup_match *m);
u32 mutex_proxy_cgroup_match_depth(const struct mutex_proxy_cgroup_match *m);
u32 mutex_proxy_cgroup_match_key(const struct mutex_proxy_cgroup_match *m);
bool mutex_proxy_cgroup_key_sk(const struct cgroup *root, u32 depth,
			       struct sock *sk, u32 *key);

/* ---- configuration snapshot (config.c, classify.c, sched.c) ---- */

/**
 * struct mutex_proxy_backend_pcpu - one CPU's traffic counters of a backend
 * @pkts: packets of flows steered to the backend, both directions
 * @bytes: their bytes
 * @syncp: makes 64-bit reads consistent on 32-bit kernels
 */
struct mutex_proxy_backend_pcpu {
	u64_stats_t pkts;
	u64_stats_t bytes;
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

void mutex_proxy_backend_ctr_put(struct mutex_proxy_backend_ctr *ctr);
#if IS_ENABLED(CONFIG_KUNIT)
void mutex_proxy_backend_ctr_sum(const struct mutex_proxy_backend_ctr *ctr,
				 u64 *pkts, u64 *bytes);
#endif

/**
 * struct mutex_proxy_backend - one backend of a pool
 * @addr: address (remote backends), network byte order
 * @family: AF_INET, AF_INET6, or 0 for a local port
 * @priority: failover priority, lower preferred
 * @state: enum mutex_backend_state
 * @port: port, host byte order
 * @weight: 1..65535
 * @wrr_cur: smooth weighted round robin state, under the pool's @lock
 * @ctr: run-time counters (shared across snapshots)
 */
struct mutex_proxy_backend {
	union nf_inet_addr addr;
	u8 family;
	u8 priority;
	u8 state;
	u16 port;
	u32 weight;
	s64 wrr_cur;
	struct mutex_proxy_backend_ctr *ctr;
};

/**
 * struct mutex_proxy_pool - a pool of backends
 * @name: unique name
 * @scheduler: enum mutex_scheduler
 * @failure_mode: enum mutex_failure_mode
 * @local: the backends are local ports (or the pool is empty)
 * @n_backends: number of entries in @backends
 * @backends: the backends, in configuration order
 * @rr_next: round robin cursor (run-time state, not configuration)
 * @lock: protects the backends' @wrr_cur
 */
struct mutex_proxy_pool {
	char name[MUTEX_NAME_MAX];
	u8 scheduler;
	u8 failure_mode;
	bool local;
	u32 n_backends;
	struct mutex_proxy_backend *backends;
	atomic_t rr_next;
	spinlock_t lock;	/* protects the backends' wrr_cur */
};

/* Bits of struct mutex_proxy_rule.match: which matches the rule has */
#define MUTEX_M_DST	BIT(0)
#define MUTEX_M_DPORT	BIT(1)
#define MUTEX_M_SRC	BIT(2)
#define MUTEX_M_SPORT	BIT(3)
#define MUTEX_M_UID	BIT(4)
#define MUTEX_M_GID	BIT(5)
#define MUTEX_M_CGROUP	BIT(6)
#define MUTEX_M_MARK	BIT(7)
#define MUTEX_M_OIF	BIT(8)
#define MUTEX_M_IIF	BIT(9)
#define MUTEX_M_NAME	BIT(10)
#define MUTEX_M_TO_PORT	BIT(11)
#define MUTEX_M_POOL	BIT(12)
#define MUTEX_M_OWNER	(MUTEX_M_UID | MUTEX_M_GID | MUTEX_M_CGROUP)

/**
 * struct mutex_proxy_rule - one rule, as validated
 * @match: MUTEX_M_* bits of the attributes the rule has
 * @family: AF_INET, AF_INET6, or 0 for both
 * @proto: IPPROTO_TCP, IPPROTO_UDP, or 0 for both
 * @action: enum mutex_action
 * @dst_plen: destination prefix length
 * @src_plen: source prefix length
 * @dst: destination prefix (no bit beyond @dst_plen set)
 * @dst_mask: mask of @dst_plen bits
 * @src: source prefix
 * @src_mask: mask of @src_plen bits
 * @dport_min: destination port range, host byte order
 * @dport_max: see @dport_min
 * @sport_min: source port range, host byte order
 * @sport_max: see @sport_min
 * @to_port: redirect port
 * @uid_min: socket owner uid range
 * @uid_max: see @uid_min
 * @gid_min: socket owner gid range
 * @gid_max: see @gid_min
 * @mark: mark value
 * @mark_mask: mark mask
 * @oif: output interface index
 * @iif: input interface index
 * @pool: index into the snapshot's pools
 * @cgm: cgroup path to match (cgroup.c), or NULL
 * @cgroup_path: the path as given (for GET_CONFIG), or NULL
 * @name: label
 */
struct mutex_proxy_rule {
	u32 match;
	u8 family;
	u8 proto;
	u8 action;
	u8 dst_plen;
	u8 src_plen;
	union nf_inet_addr dst;
	union nf_inet_addr dst_mask;
	union nf_inet_addr src;
	union nf_inet_addr src_mask;
	u16 dport_min;
	u16 dport_max;
	u16 sport_min;
	u16 sport_max;
	u16 to_port;
	u32 uid_min;
	u32 uid_max;
	u32 gid_min;
	u32 gid_max;
	u32 mark;
	u32 mark_mask;
	u32 oif;
	u32 iif;
	u32 pool;
	struct mutex_proxy_cgroup_match *cgm;
	char *cgroup_path;
	char name[MUTEX_NAME_MAX];
};

/**
 * struct mutex_proxy_key - what the classifier knows of a new flow
 * @family: AF_INET or AF_INET6
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @has_owner: @uid, @gid and @sk are valid (a local socket)
 * @saddr: source address
 * @daddr: destination address
 * @sport: source port, host byte order
 * @dport: destination port, host byte order
 * @mark: packet mark
 * @oif: output interface index, 0 if none
 * @iif: input interface index, 0 if none
 * @uid: owner uid of the local socket
 * @gid: owner gid of the local socket
 * @sk: the local socket (for cgroup matches), or NULL
 */
struct mutex_proxy_key {
	u8 family;
	u8 proto;
	bool has_owner;
	union nf_inet_addr saddr;
	union nf_inet_addr daddr;
	u16 sport;
	u16 dport;
	u32 mark;
	u32 oif;
	u32 iif;
	u32 uid;
	u32 gid;
	struct sock *sk;
};

/* Partitions of the classifier: (family, protocol) */
#define MUTEX_CLS_PARTS	4

/* Range fields the classifier cuts into elementary intervals */
enum {
	MUTEX_CLS_R_DPORT,
	MUTEX_CLS_R_SPORT,
	MUTEX_CLS_R_UID,
	MUTEX_CLS_R_GID,
	MUTEX_CLS_RANGES,
};

/**
 * struct mutex_proxy_cls_range - elementary intervals of one range field
 * @n: number of intervals (0: no rule of the partition indexes the field)
 * @bounds: first value of each interval, ascending, @bounds[0] == 0;
 *	interval i ends where interval i + 1 begins
 */
struct mutex_proxy_cls_range {
	u32 n;
	u32 *bounds;
};

/**
 * struct mutex_proxy_cls_tuple - a shape of rules: which fields, which
 *	prefix lengths, which mark mask, which cgroup depth they index
 * @fields: MUTEX_CLS_F_* bits (classify.c)
 * @dst_plen: destination prefix length, if MUTEX_CLS_F_DST
 * @src_plen: source prefix length, if MUTEX_CLS_F_SRC
 * @mark_mask: the mask, if MUTEX_CLS_F_MARK
 * @cg_depth: cgroup path depth, if MUTEX_CLS_F_CGROUP
 * @cg_root: the cgroup namespace root of those paths (the rules hold it)
 * @first: the smallest rule index of the shape
 * @dst_mask: mask of @dst_plen bits
 * @src_mask: mask of @src_plen bits
 */
struct mutex_proxy_cls_tuple {
	u32 fields;
	u8 dst_plen;
	u8 src_plen;
	u32 mark_mask;
	u32 cg_depth;
	const struct cgroup *cg_root;
	u32 first;
	union nf_inet_addr dst_mask;
	union nf_inet_addr src_mask;
};

/**
 * struct mutex_proxy_cls_ent - one rule under one key of its shape
 * @hash: hash of the shape's index and the key's fields
 * @tuple: index of the shape in the partition
 * @idx: the rule's index
 */
struct mutex_proxy_cls_ent {
	u32 hash;
	u32 tuple;
	u32 idx;
};

/**
 * struct mutex_proxy_cls_part - the index of one (family, protocol)
 * @ranges: elementary intervals per range field
 * @n_tuples: number of shapes
 * @tuples: the shapes, ascending by their first rule
 * @seed: hash seed
 * @hash_mask: number of buckets - 1 (a power of two - 1)
 * @bucket: entries of bucket b are @ent[@bucket[b] .. @bucket[b + 1] - 1]
 * @n_ent: number of entries
 * @ent: entries sorted by (bucket, hash, tuple, rule index)
 */
struct mutex_proxy_cls_part {
	struct mutex_proxy_cls_range ranges[MUTEX_CLS_RANGES];
	u32 n_tuples;
	struct mutex_proxy_cls_tuple *tuples;
	u32 seed;
	u32 hash_mask;
	u32 *bucket;
	u32 n_ent;
	struct mutex_proxy_cls_ent *ent;
};

/**
 * struct mutex_proxy_config - one immutable configuration of a namespace
 * @generation: its generation
 * @n_pools: number of pools
 * @n_rules: number of rules
 * @pools: pools, in configuration order
 * @rules: rules, in evaluation order
 * @parts: classifier index per (family, protocol)
 * @rcu: for freeing after a grace period
 *
 * Built by SET_CONFIG, published with rcu_assign_pointer() and never
 * changed after (except the schedulers' cursors in the pools, which are
 * run-time state); readers use it under rcu_read_lock().
 */
struct mutex_proxy_config {
	u64 generation;
	u32 n_pools;
	u32 n_rules;
	struct mutex_proxy_pool *pools;
	struct mutex_proxy_rule *rules;
	struct mutex_proxy_cls_part parts[MUTEX_CLS_PARTS];
	struct rcu_head rcu;
};

struct mutex_proxy_net;

void mutex_proxy_prefix_mask(union nf_inet_addr *mask, u8 plen);
void mutex_proxy_sched_init(void);

struct mutex_proxy_config *
mutex_proxy_config_build(const struct nlattr *head, int len,
			 const struct mutex_proxy_config *old,
			 struct netlink_ext_ack *extack);
void mutex_proxy_config_free(struct mutex_proxy_config *cfg);
int mutex_proxy_config_replace(struct mutex_proxy_net *mpn,
			       struct mutex_proxy_config *cfg, u64 had,
			       struct netlink_ext_ack *extack);
int mutex_proxy_config_put(struct sk_buff *skb,
			   const struct mutex_proxy_config *cfg);
int mutex_proxy_config_put_from(struct sk_buff *skb,
				const struct mutex_proxy_config *cfg, u32 *pos);
size_t mutex_proxy_config_size(const struct mutex_proxy_config *cfg);
size_t mutex_proxy_config_item_size_max(const struct mutex_proxy_config *cfg);

int mutex_proxy_cls_build(struct mutex_proxy_config *cfg);
void mutex_proxy_cls_free(struct mutex_proxy_config *cfg);
#if IS_ENABLED(CONFIG_KUNIT)
bool mutex_proxy_rule_match(const struct mutex_proxy_rule *r,
			    const struct mutex_proxy_key *key);
#endif
const struct mutex_proxy_rule *
mutex_proxy_classify(const struct mutex_proxy_config *cfg,
		     const struct mutex_proxy_key *key);

struct mutex_proxy_backend *
mutex_proxy_sched_pick(struct mutex_proxy_pool *pool,
		       const struct mutex_proxy_key *key);

/* ---- connection table (table.c) ---- */

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

int mutex_proxy_table_cache_init(void);
void mutex_proxy_table_cache_exit(void);
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

/* ---- per-packet accounting: per-CPU cache and batches (account.c) ---- */

int mutex_proxy_account_init(void);
void mutex_proxy_account_exit(void);
void mutex_proxy_account_packet(struct mutex_proxy_net *mpn,
				struct nf_conn *ct,
				enum ip_conntrack_dir dir, unsigned int len);
void mutex_proxy_account_release(struct llist_node *dead, unsigned long n);
void mutex_proxy_account_flush_all(void);
int mutex_proxy_account_resize(u32 entries);

/* ---- per network namespace state (main.c) ---- */

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
 * @labels: conntrack labels are enabled (nf_connlabels_get()) for this
 *	namespace
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
	bool labels;
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

/* ---- netfilter hooks (hooks.c) ---- */

int mutex_proxy_hooks_register(struct net *net, struct mutex_proxy_net *mpn);
void mutex_proxy_hooks_unregister(struct net *net, struct mutex_proxy_net *mpn);

/* ---- steering through the NAT engine (steer.c) ---- */

/**
 * mutex_proxy_ct_steered() - whether a conntrack entry is one the module
 *	steered (its MUTEX_CT_LABEL_STEERED label bit is set)
 * @ct: the entry; a live one (referenced, or the packet's own)
 *
 * One extension lookup and one bit test: the packet path's filter.
 */
static inline bool mutex_proxy_ct_steered(const struct nf_conn *ct)
{
	const struct nf_conn_labels *labels = nf_ct_labels_find(ct);

	return labels && test_bit(MUTEX_CT_LABEL_STEERED, labels->bits);
}

int mutex_proxy_steer_register(struct net *net, struct mutex_proxy_net *mpn);
void mutex_proxy_steer_unregister(struct net *net, struct mutex_proxy_net *mpn);

/* ---- /proc/net/mutex_proxy (proc.c) ---- */

int mutex_proxy_proc_init(struct net *net);
void mutex_proxy_proc_exit(struct net *net);

/* ---- generic netlink (netlink.c) ---- */

int mutex_proxy_genl_register(void);
void mutex_proxy_genl_unregister(void);

#endif /* _MUTEX_PROXY_H */
