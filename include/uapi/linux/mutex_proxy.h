/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mutex_proxy: generic netlink ABI between the mutex_proxy kernel module and
 * userspace (mutexd, mutexctl). This header is the whole netlink tree: every
 * command, every attribute, its type and who may use it.
 *
 * Family:   MUTEX_PROXY_GENL_NAME ("mutex_proxy"), version MUTEX_PROXY_GENL_VERSION.
 * Netns:    the family is netns-aware; every request acts on the network
 *           namespace of the requesting socket and sees nothing of any other.
 * Errors:   every refused request carries an extended ack (NLMSGERR_ATTR_MSG)
 *           naming what was wrong; request with NETLINK_EXT_ACK set to read it.
 *           A refused request changes nothing.
 * Policies: strict validation: unknown attributes, wrong lengths and trailing
 *           data are refused (-EINVAL with an extack message). Nests must
 *           carry NLA_F_NESTED. Commands whose request is "none" refuse any
 *           attribute. genlmsghdr.reserved must be 0 and nlmsg_flags may
 *           only hold NLM_F_REQUEST, NLM_F_ACK and NLM_F_ECHO.
 * Addresses: nothing the module exports carries a kernel address.
 *
 * Permissions
 *   Reading (GET_INFO, GET_STATS) is open to every user.
 *   SET_PARAMS changes module-wide parameters shared by every namespace, so it
 *   needs CAP_NET_ADMIN in the initial user namespace (GENL_ADMIN_PERM): a
 *   container's root cannot retune the host. Commands that change one
 *   namespace's configuration need CAP_NET_ADMIN over that namespace's user
 *   namespace (GENL_UNS_ADMIN_PERM).
 *
 * Commands (request attributes -> reply attributes)
 *
 *   MUTEX_CMD_GET_INFO    doit, open.
 *       request: none
 *       reply:   MUTEX_A_VERSION, MUTEX_A_API_VERSION, MUTEX_A_FEATURES,
 *                MUTEX_A_NETNS_COOKIE, MUTEX_A_PARAMS
 *
 *   MUTEX_CMD_GET_STATS   doit, open.
 *       request: none
 *       reply:   MUTEX_A_STATS (this namespace's counters, summed over CPUs)
 *
 *   MUTEX_CMD_SET_PARAMS  doit, CAP_NET_ADMIN in the initial user namespace.
 *       request: MUTEX_A_PARAMS with one or more MUTEX_PARAM_A_* attributes.
 *                All given values are validated first; if any is refused,
 *                none is applied.
 *       reply:   MUTEX_A_PARAMS (all parameters, after the change)
 *       errors:  -EPERM without CAP_NET_ADMIN (refused by the generic
 *                netlink core, which adds no extack message);
 *                -EINVAL if MUTEX_A_PARAMS is missing (extack message and
 *                NLMSGERR_ATTR_MISS_TYPE) or empty, or a value is out of
 *                range: the extack message names the parameter and its
 *                allowed values, NLMSGERR_ATTR_OFFS points at the value.
 *
 * Attribute tree
 *
 *   MUTEX_A_*                 top level
 *   +- MUTEX_A_PARAMS         nest of MUTEX_PARAM_A_*
 *   +- MUTEX_A_STATS          nest of MUTEX_STATS_A_*
 */
#ifndef _UAPI_LINUX_MUTEX_PROXY_H
#define _UAPI_LINUX_MUTEX_PROXY_H

#include <linux/types.h>

#define MUTEX_PROXY_GENL_NAME		"mutex_proxy"
#define MUTEX_PROXY_GENL_VERSION	1

/* Bumped when a command or attribute is added; never reused. */
#define MUTEX_PROXY_API_VERSION		1

enum mutex_cmd {
	MUTEX_CMD_UNSPEC,
	MUTEX_CMD_GET_INFO,
	MUTEX_CMD_GET_STATS,
	MUTEX_CMD_SET_PARAMS,

	__MUTEX_CMD_MAX,
};
#define MUTEX_CMD_MAX (__MUTEX_CMD_MAX - 1)

/**
 * enum mutex_attr - top-level attributes
 * @MUTEX_A_UNSPEC: unused
 * @MUTEX_A_PAD: padding for 64-bit attributes
 * @MUTEX_A_VERSION: NUL-terminated string, module version ("0.1.0")
 * @MUTEX_A_API_VERSION: u32, MUTEX_PROXY_API_VERSION of the module
 * @MUTEX_A_FEATURES: u64, bitmask of MUTEX_FEATURE_*
 * @MUTEX_A_NETNS_COOKIE: u64, cookie of the namespace that answered
 *	(the same number as SO_NETNS_COOKIE; not an address)
 * @MUTEX_A_PARAMS: nest, enum mutex_param_attr
 * @MUTEX_A_STATS: nest, enum mutex_stats_attr
 */
enum mutex_attr {
	MUTEX_A_UNSPEC,
	MUTEX_A_PAD,
	MUTEX_A_VERSION,
	MUTEX_A_API_VERSION,
	MUTEX_A_FEATURES,
	MUTEX_A_NETNS_COOKIE,
	MUTEX_A_PARAMS,
	MUTEX_A_STATS,

	__MUTEX_A_MAX,
};
#define MUTEX_A_MAX (__MUTEX_A_MAX - 1)

/*
 * Bits of MUTEX_A_FEATURES
 * MUTEX_FEATURE_NETNS: state is per network namespace
 * MUTEX_FEATURE_STATS: GET_STATS answers per-CPU 64-bit counters
 * MUTEX_FEATURE_PARAMS: SET_PARAMS changes module parameters at run time
 * MUTEX_FEATURE_HOOKS_IPV4: packets are seen at IPv4 LOCAL_OUT and PRE_ROUTING
 * MUTEX_FEATURE_HOOKS_IPV6: packets are seen at IPv6 LOCAL_OUT and PRE_ROUTING
 */
#define MUTEX_FEATURE_NETNS		(1ULL << 0)
#define MUTEX_FEATURE_STATS		(1ULL << 1)
#define MUTEX_FEATURE_PARAMS		(1ULL << 2)
#define MUTEX_FEATURE_HOOKS_IPV4	(1ULL << 3)
#define MUTEX_FEATURE_HOOKS_IPV6	(1ULL << 4)

/*
 * Module parameters: module-wide, the same values as
 * /sys/module/mutex_proxy/parameters/<name>, set through the same setters.
 */
#define MUTEX_BATCH_SIZE_MIN		1
#define MUTEX_BATCH_SIZE_MAX		256
#define MUTEX_BATCH_SIZE_DEFAULT	32
#define MUTEX_CACHE_SIZE_MAX		65536	/* entries per CPU, power of two */
#define MUTEX_CACHE_SIZE_DEFAULT	1024
#define MUTEX_MAX_CONNS_MIN		1
#define MUTEX_MAX_CONNS_MAX		16777216
#define MUTEX_MAX_CONNS_DEFAULT		262144

/**
 * enum mutex_param_attr - attributes nested in MUTEX_A_PARAMS
 * @MUTEX_PARAM_A_UNSPEC: unused
 * @MUTEX_PARAM_A_ENABLE_BATCHING: u32, 0 or 1 (perf_enable_batching):
 *	account steered packets through per-CPU batches (1) or one by one (0)
 * @MUTEX_PARAM_A_BATCH_SIZE: u32, MUTEX_BATCH_SIZE_MIN..MUTEX_BATCH_SIZE_MAX
 *	(perf_batch_size): packets per accounting batch
 * @MUTEX_PARAM_A_CACHE_SIZE: u32, 0 (cache off) or a power of two up to
 *	MUTEX_CACHE_SIZE_MAX (perf_cache_size): per-CPU flow cache entries
 * @MUTEX_PARAM_A_MAX_CONNS: u32, MUTEX_MAX_CONNS_MIN..MUTEX_MAX_CONNS_MAX
 *	(max_conns): steered flows tracked per namespace
 */
enum mutex_param_attr {
	MUTEX_PARAM_A_UNSPEC,
	MUTEX_PARAM_A_ENABLE_BATCHING,
	MUTEX_PARAM_A_BATCH_SIZE,
	MUTEX_PARAM_A_CACHE_SIZE,
	MUTEX_PARAM_A_MAX_CONNS,

	__MUTEX_PARAM_A_MAX,
};
#define MUTEX_PARAM_A_MAX (__MUTEX_PARAM_A_MAX - 1)

/**
 * enum mutex_stats_attr - attributes nested in MUTEX_A_STATS, all u64
 *	counters of one namespace, summed over CPUs, monotonic from the
 *	namespace's creation (or the module's load)
 * @MUTEX_STATS_A_UNSPEC: unused
 * @MUTEX_STATS_A_PAD: padding
 * @MUTEX_STATS_A_PKTS_SEEN: packets that entered the module's hooks
 * @MUTEX_STATS_A_PKTS_STEERED: packets of steered flows
 * @MUTEX_STATS_A_FLOWS_NEW: new connections evaluated against the rules
 * @MUTEX_STATS_A_FLOWS_STEERED: new connections redirected or DNATed
 * @MUTEX_STATS_A_FLOWS_BYPASSED: new connections that matched a bypass rule
 * @MUTEX_STATS_A_FLOWS_DROPPED: new connections dropped (drop rule, or a
 *	pool in failure mode closed with no backend up)
 * @MUTEX_STATS_A_CACHE_HITS: per-CPU flow cache hits
 * @MUTEX_STATS_A_CACHE_MISSES: per-CPU flow cache misses
 * @MUTEX_STATS_A_TABLE_INSERTS: flows added to the connection table
 * @MUTEX_STATS_A_TABLE_EVICTIONS: flows removed from the connection table
 * @MUTEX_STATS_A_TABLE_FULL: flows not tracked because max_conns was reached
 * @MUTEX_STATS_A_ALLOC_FAILS: failed allocations on the packet path
 * @MUTEX_STATS_A_BATCH_FLUSHES: accounting batches folded into shared counters
 * @MUTEX_STATS_A_EVENTS_SENT: event messages sent to the multicast group
 * @MUTEX_STATS_A_EVENTS_LOST: event messages that could not be sent
 */
enum mutex_stats_attr {
	MUTEX_STATS_A_UNSPEC,
	MUTEX_STATS_A_PAD,
	MUTEX_STATS_A_PKTS_SEEN,
	MUTEX_STATS_A_PKTS_STEERED,
	MUTEX_STATS_A_FLOWS_NEW,
	MUTEX_STATS_A_FLOWS_STEERED,
	MUTEX_STATS_A_FLOWS_BYPASSED,
	MUTEX_STATS_A_FLOWS_DROPPED,
	MUTEX_STATS_A_CACHE_HITS,
	MUTEX_STATS_A_CACHE_MISSES,
	MUTEX_STATS_A_TABLE_INSERTS,
	MUTEX_STATS_A_TABLE_EVICTIONS,
	MUTEX_STATS_A_TABLE_FULL,
	MUTEX_STATS_A_ALLOC_FAILS,
	MUTEX_STATS_A_BATCH_FLUSHES,
	MUTEX_STATS_A_EVENTS_SENT,
	MUTEX_STATS_A_EVENTS_LOST,

	__MUTEX_STATS_A_MAX,
};
#define MUTEX_STATS_A_MAX (__MUTEX_STATS_A_MAX - 1)

#endif /* _UAPI_LINUX_MUTEX_PROXY_H */
