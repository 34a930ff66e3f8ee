/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the immutable configuration snapshot of a namespace
 * (config.c).
 */
#ifndef _MUTEX_PROXY_CONFIG_H
#define _MUTEX_PROXY_CONFIG_H

#include <linux/bits.h>
#include <linux/mutex_proxy.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "classify.h"

struct mutex_proxy_backend_ctr;
struct mutex_proxy_cgroup_match;
struct mutex_proxy_net;
struct netlink_ext_ack;

/**
 * struct mutex_proxy_backend - one backend of a pool
 * @addr: address (remote backends), network byte order
 * @family: AF_INET, AF_INET6, or 0 for a local port
 * @priority: failover priority, lower preferred
 * @state: enum mutex_backend_state; changed in place by SET_BACKEND
 *	(READ_ONCE())
 * @port: port, host byte order
 * @weight: 1..65535; changed in place by SET_BACKEND, under the pool's @lock
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
 * @dst_mask: mask of @dst_plen bits (derived)
 * @src: source prefix
 * @src_mask: mask of @src_plen bits (derived)
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
 * @cgm: cgroup path to match (cgroup.c), or NULL (derived)
 * @cgroup_path: the path as given (for GET_CONFIG), or NULL; the snapshot
 *	owns it (kfree() with the snapshot)
 * @ctr: run-time counters (derived; shared with the snapshot before when
 *	the rule keeps its name)
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
	struct mutex_proxy_rule_ctr *ctr;
	char name[MUTEX_NAME_MAX];
};

/**
 * struct mutex_proxy_config - one immutable configuration of a namespace
 * @generation: its generation
 * @n_pools: number of pools
 * @n_rules: number of rules
 * @pools: pools, in configuration order
 * @rules: rules, in evaluation order
 * @owner_rules: a rule matches the socket's owner (uid, gid or cgroup): new
 *	flows need their socket's owner looked up
 * @parts: classifier index per (family, protocol)
 * @rcu: for freeing after a grace period
 *
 * Built from plain arrays (mutex_proxy_config_alloc() to
 * mutex_proxy_config_finish()), published with rcu_assign_pointer() and
 * never changed after (except the schedulers' cursors in the pools, which
 * are run-time state, and the backends' @state and @weight, which
 * SET_BACKEND changes in place); readers use it under rcu_read_lock().
 */
struct mutex_proxy_config {
	u64 generation;
	u32 n_pools;
	u32 n_rules;
	struct mutex_proxy_pool *pools;
	struct mutex_proxy_rule *rules;
	bool owner_rules;
	struct mutex_proxy_cls_part parts[MUTEX_CLS_PARTS];
	struct rcu_head rcu;
};

/**
 * struct mutex_proxy_backend_change - one backend's new state or weight
 *	(SET_BACKEND)
 * @pool: the pool's name
 * @id: the backend: @id.family, @id.addr (local port: family 0) and @id.port
 * @generation: with @has_generation, the generation the writer read
 * @has_generation: refuse the change if the configuration was replaced
 * @set_state: change the state to @state
 * @set_weight: change the weight to @weight
 * @state: enum mutex_backend_state
 * @weight: 1..65535
 */
struct mutex_proxy_backend_change {
	const char *pool;
	struct mutex_proxy_backend id;
	u64 generation;
	bool has_generation;
	bool set_state;
	bool set_weight;
	u8 state;
	u32 weight;
};

/**
 * struct mutex_proxy_config_err - why and where a snapshot was refused
 * @msg: what is wrong (a static string), or NULL
 * @item: MUTEX_A_POOL or MUTEX_A_RULE, or 0 for the configuration as a whole
 * @index: which pool or rule, counted from 0 among the items of its kind
 * @backend: which backend of the pool, or -1 for the pool itself
 * @attr: the field at fault, as its attribute type inside the item
 *	(MUTEX_POOL_A_*, MUTEX_BACKEND_A_*, MUTEX_RULE_A_*), or 0 for the item
 */
struct mutex_proxy_config_err {
	const char *msg;
	u16 item;
	u16 attr;
	u32 index;
	s32 backend;
};

unsigned int mutex_proxy_addr_len(u8 family);
struct mutex_proxy_config *
mutex_proxy_config_alloc(u32 n_pools, u32 n_rules,
			 struct mutex_proxy_config_err *err);
int mutex_proxy_config_pool_init(struct mutex_proxy_config *cfg, u32 i,
				 u32 n_backends,
				 struct mutex_proxy_config_err *err);
int mutex_proxy_config_finish(struct mutex_proxy_config *cfg,
			      const struct mutex_proxy_config *old,
			      struct mutex_proxy_config_err *err);
void mutex_proxy_config_free(struct mutex_proxy_config *cfg);
int mutex_proxy_config_replace(struct mutex_proxy_net *mpn,
			       struct mutex_proxy_config *cfg, u64 had,
			       struct netlink_ext_ack *extack);

struct mutex_proxy_backend *
mutex_proxy_config_find_backend(struct mutex_proxy_config *cfg,
				const char *pool,
				const struct mutex_proxy_backend *id,
				struct mutex_proxy_pool **poolp,
				struct netlink_ext_ack *extack);
int mutex_proxy_config_set_backend(struct mutex_proxy_net *mpn,
				   const struct mutex_proxy_backend_change *chg,
				   struct netlink_ext_ack *extack);

#endif /* _MUTEX_PROXY_CONFIG_H */
