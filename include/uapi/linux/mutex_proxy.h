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
 *   GET_INFO and GET_STATS are open to every user. GET_CONFIG and GET_FLOWS
 *   name the node's sentries, relays and peers, so they need CAP_NET_ADMIN
 *   over the namespace's user namespace (GENL_UNS_ADMIN_PERM), as
 *   conntrack's table does. GET_ORIGDST needs the same, or that the caller
 *   owns (by uid) the local socket the connection was redirected to (as
 *   SO_ORIGINAL_DST: a proxy running as an unprivileged user asks about its
 *   own connections); -EPERM otherwise, decided before any lookup.
 *   SET_PARAMS changes module-wide parameters shared by every namespace, so it
 *   needs CAP_NET_ADMIN in the initial user namespace (GENL_ADMIN_PERM): a
 *   container's root cannot retune the host. Commands that change one
 *   namespace's configuration need CAP_NET_ADMIN over that namespace's user
 *   namespace (GENL_UNS_ADMIN_PERM): SET_CONFIG, SET_BACKEND, END_FLOWS,
 *   FLUSH_FLOWS. Joining a multicast group needs the same.
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
 *       reply:   MUTEX_A_STATS (this namespace's counters, summed over CPUs,
 *                per-CPU accounting batches folded first) and, since API
 *                version 3, MUTEX_A_FLOW_COUNT (flows in the connection
 *                table now)
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
 *   MUTEX_CMD_SET_CONFIG  doit, CAP_NET_ADMIN over the namespace
 *                         (GENL_UNS_ADMIN_PERM). Since API version 2.
 *       Replaces the namespace's whole configuration (pools and rules) in
 *       one step: packet processing sees either the old or the new
 *       configuration, never a mix. Flows already steered keep their NAT.
 *       request: MUTEX_A_GENERATION, the generation the writer last read
 *                (GET_CONFIG; 0 for a namespace never configured), and
 *                the new configuration: MUTEX_A_POOL attributes (the n-th
 *                is pool index n-1) and MUTEX_A_RULE attributes (in
 *                evaluation order), all at the top level of the message,
 *                not in one nest: an attribute is at most 64 KiB, a
 *                configuration can be far larger. None at all removes
 *                every pool and rule. A message larger than the socket's
 *                send buffer needs a larger one (SO_SNDBUF, or
 *                SO_SNDBUFFORCE with CAP_NET_ADMIN): about 60 to 250
 *                bytes per rule.
 *       reply:   MUTEX_A_GENERATION, the generation of the new
 *                configuration (the old one plus 1).
 *       errors:  -EPERM without CAP_NET_ADMIN over the namespace;
 *                -ESTALE if MUTEX_A_GENERATION is not the current
 *                generation (another writer replaced the configuration
 *                since it was read; extack "configuration changed since
 *                generation N (now M)" where the kernel can format it, else
 *                "configuration changed since the generation read"): read
 *                it again and retry;
 *                -EINVAL for a missing MUTEX_A_GENERATION and for every invalid pool, backend or rule (a value out
 *                of its range too: never -ERANGE): the extack
 *                message says what is wrong, NLMSGERR_ATTR_OFFS points at
 *                the offending attribute (or its nest);
 *                -ENOENT for a cgroup path that does not exist,
 *                -EOPNOTSUPP for a cgroup match on a kernel without
 *                cgroup socket data; -ENOMEM. Nothing changes on any error.
 *       Validation: at most MUTEX_MAX_POOLS pools, MUTEX_MAX_BACKENDS
 *       backends per pool, MUTEX_MAX_RULES rules; pool names are 1 to
 *       MUTEX_NAME_MAX - 1 characters of [A-Za-z0-9_.-] and unique; a
 *       pool's backends are all local (no address) or all remote; no two
 *       backends of a pool have the same family, address and port; a rule
 *       has MUTEX_RULE_A_ACTION; prefixes are of the rule's family and
 *       not longer than it (32 or 128), and no address bit beyond the
 *       prefix length is set; port ranges have min <= max and min >= 1;
 *       uid/gid ranges min <= max; port ranges need MUTEX_RULE_A_PROTO
 *       (TCP or UDP) or match TCP and UDP alike; uid, gid and cgroup
 *       matches exclude MUTEX_RULE_A_IIF (forwarded packets have no local
 *       socket); redirect takes exactly one of MUTEX_RULE_A_TO_PORT and
 *       MUTEX_RULE_A_POOL (a pool of local backends); dnat takes
 *       MUTEX_RULE_A_POOL (a pool of remote backends, with at least one
 *       backend of the rule's family if it has one); bypass and drop take
 *       neither.
 *
 *   MUTEX_CMD_GET_CONFIG  doit and dumpit, CAP_NET_ADMIN. Since API version 2 (dump:
 *       since API version 3).
 *       request: none
 *       reply:   MUTEX_A_GENERATION, MUTEX_A_POOL..., MUTEX_A_RULE...: the
 *                configuration as set (attributes that were not given are not returned,
 *                except defaults that are: scheduler, failure mode,
 *                weight, priority, state), with each backend's run-time
 *                counters MUTEX_BACKEND_A_ACTIVE_FLOWS and
 *                MUTEX_BACKEND_A_TOTAL_FLOWS (and, since API version 5,
 *                each rule's MUTEX_RULE_A_MATCHES). The reply is one message
 *                (up to about 400 bytes per rule): for large
 *                configurations the socket's receive buffer must hold it
 *                and the ack (SO_RCVBUF/SO_RCVBUFFORCE), else the read
 *                fails with ENOBUFS; one too large to allocate fails with
 *                -ENOMEM.
 *       dump (NLM_F_DUMP): the same attributes over as many messages as
 *                needed, for configurations of any size: every message
 *                carries MUTEX_A_GENERATION followed by whole pools and
 *                rules, pools first, in order (a rule's MUTEX_RULE_A_POOL
 *                indexes the pools of the whole dump). Every message
 *                has room for the largest pool or rule (a pool of
 *                MUTEX_MAX_BACKENDS backends: about 48 KiB), so read with
 *                a buffer of 64 KiB or size each read (MSG_PEEK|MSG_TRUNC).
 *                A message built after the configuration was replaced is
 *                flagged NLM_F_DUMP_INTR: its parts do not belong
 *                together, dump again.
 *
 *   MUTEX_CMD_GET_FLOWS   dumpit (NLM_F_DUMP), CAP_NET_ADMIN. Since API version 3.
 *       request: none (nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP; the dump
 *                ends with NLMSG_DONE, there is no ACK)
 *       reply:   one MUTEX_A_FLOW per flow of the connection table, many per
 *                message, resumable across messages. Per-CPU accounting
 *                batches are folded before the dump starts. Flows may
 *                come and go during a dump: a flow present from its
 *                start to its end is listed once, one added or removed
 *                meanwhile may or may not be. A message is flagged
 *                NLM_F_DUMP_INTR when the walk may have missed or
 *                repeated a flow that stayed (the table was resized, or
 *                the flow a message stopped at was removed before the
 *                next one); dump again for an exact picture.
 *
 *   MUTEX_CMD_GET_ORIGDST doit, CAP_NET_ADMIN or the proxy socket's owner.
 *       Since API version 3.
 *       request: MUTEX_A_FLOW with MUTEX_FLOW_A_FAMILY, MUTEX_FLOW_A_PROTO,
 *                MUTEX_FLOW_A_SRC_ADDR, MUTEX_FLOW_A_SRC_PORT,
 *                MUTEX_FLOW_A_DST_ADDR, MUTEX_FLOW_A_DST_PORT: the
 *                connection as the proxy sees it (its peer and its own
 *                address and port, i.e. after NAT)
 *       reply:   MUTEX_A_FLOW, the whole flow; MUTEX_FLOW_A_ORIG_DST_ADDR
 *                and MUTEX_FLOW_A_ORIG_DST_PORT are the destination the
 *                client asked for. The connection is looked up in
 *                conntrack's default zone. Pending accounting batches are
 *                folded first, as for GET_FLOWS.
 *                A steered connection the table does not track (full)
 *                is answered from its conntrack entry, with zero counters.
 *       errors:  -ENOENT (extack "no steered flow with this 5-tuple") if
 *                no connection steered by the module has that post-NAT
 *                5-tuple; -EINVAL for a missing or malformed
 *                attribute (extack message naming it, a missing one also
 *                with NLMSGERR_ATTR_MISS_TYPE and MISS_NEST; an attribute
 *                of the wrong size gets the netlink core's message and
 *                NLMSGERR_ATTR_OFFS pointing at it), for a family
 *                other than AF_INET/AF_INET6, a protocol other than TCP/UDP,
 *                an address not of the family's length, or port 0.
 *
 *   MUTEX_CMD_FLUSH_FLOWS doit, CAP_NET_ADMIN over the namespace. Since API
 *       version 3.
 *       request: none
 *       reply:   MUTEX_A_FLOW_COUNT, the number of flows removed. The
 *                connections themselves (conntrack, NAT) are untouched and
 *                keep their destination; they are no longer tracked or
 *                counted.
 *
 *   MUTEX_CMD_SET_BACKEND doit, CAP_NET_ADMIN over the namespace. Since API
 *       version 4.
 *       Changes one backend's state and/or weight in the current
 *       configuration, in place: the configuration is not rebuilt, its
 *       generation does not change, and flows already steered keep their
 *       NAT (a backend set down or drain takes no new flows; its flows go
 *       on until MUTEX_CMD_END_FLOWS ends them or they end).
 *       request: MUTEX_A_POOL with MUTEX_POOL_A_NAME and exactly one
 *                MUTEX_POOL_A_BACKEND holding the backend's identity
 *                (MUTEX_BACKEND_A_FAMILY and MUTEX_BACKEND_A_ADDR, absent
 *                for a local port, and MUTEX_BACKEND_A_PORT) and one or both
 *                of MUTEX_BACKEND_A_STATE and MUTEX_BACKEND_A_WEIGHT; other
 *                pool and backend attributes are refused. Optionally
 *                MUTEX_A_GENERATION: the change applies only to that
 *                generation.
 *       reply:   MUTEX_A_GENERATION, the current generation (unchanged).
 *       With SET_CONFIG: both run under the namespace's configuration
 *                lock, one after the other, never interleaved. A SET_BACKEND
 *                changes the configuration that is current when it runs;
 *                a later SET_CONFIG replaces every backend's state and
 *                weight with what it carries (mutexd, which owns the
 *                states, carries the ones it set). A writer that must not
 *                change a configuration it has not read passes
 *                MUTEX_A_GENERATION. A change is announced on the
 *                "events" group (MUTEX_EVENT_BACKEND).
 *       errors:  -EINVAL (extack) for a missing or malformed attribute, a
 *                weight outside 1..65535, nothing to change;
 *                -ENOENT (extack "no pool named ..." / "no such backend in
 *                the pool") if the current configuration has no such pool
 *                or backend; -ESTALE if MUTEX_A_GENERATION is given and is
 *                not the current generation. Nothing changes on any error.
 *
 *   MUTEX_CMD_END_FLOWS   doit, CAP_NET_ADMIN over the namespace. Since API
 *       version 4.
 *       Ends the connections steered to one backend: their conntrack
 *       entries are deleted (as conntrack -D does), so a UDP flow's next
 *       datagram is a new flow, decided again by the rules (failover to a
 *       live backend). A TCP connection whose entry was ended is not
 *       re-steered (only a SYN is) and not sent unNATed to its original
 *       destination either: while a rule sends it to a pool in failure
 *       mode closed, its next segment is answered with a TCP reset and
 *       dropped, so the client learns at once and reconnects.
 *       request: MUTEX_A_POOL with MUTEX_POOL_A_NAME and one
 *                MUTEX_POOL_A_BACKEND (identity only, as for SET_BACKEND);
 *                optionally MUTEX_A_FLOW with only MUTEX_FLOW_A_PROTO
 *                (IPPROTO_TCP or IPPROTO_UDP): end only that protocol's.
 *       reply:   MUTEX_A_FLOW_COUNT, the number of connections ended. Every
 *                steered connection to the backend's address and port is
 *                found, tracked by the table or not (table full); one that
 *                the table tracks is ended only if it belongs to this pool.
 *       errors:  -EINVAL, -ENOENT as SET_BACKEND.
 *
 *   MUTEX_CMD_EVENT       not a request (refused with -EOPNOTSUPP): the
 *       command of the messages multicast to the groups below. Since API
 *       version 4. Each message carries one or more MUTEX_A_EVENT.
 *
 * Multicast groups (join with NETLINK_ADD_MEMBERSHIP; ids from
 * CTRL_CMD_GETFAMILY's CTRL_ATTR_MCAST_GROUPS). Events of a namespace go to
 * the listeners in that namespace only. The events name backends and
 * peers, so joining needs CAP_NET_ADMIN over the namespace's user
 * namespace (GENL_MCAST_CAP_NET_ADMIN), as GET_CONFIG does: -EPERM else.
 *   MUTEX_PROXY_MCGRP_EVENTS ("events"): MUTEX_EVENT_CONFIG when a
 *       SET_CONFIG replaced the configuration, MUTEX_EVENT_BACKEND when a
 *       SET_BACKEND changed a backend. One message per change, sent before
 *       the request is answered.
 *   MUTEX_PROXY_MCGRP_FLOWS ("flows"): opt-in by joining: MUTEX_EVENT_FLOW_START
 *       when a steered flow is tracked, MUTEX_EVENT_FLOW_END when it leaves
 *       the table. Batched: a CPU's events are gathered into one message
 *       until perf_batch_size events or a full message, and sent at the
 *       latest MUTEX_EVENT_FLUSH_MS after the first; nothing is built while
 *       nobody listens.
 *   A message that could not be allocated, or that a listener's full
 *   receive buffer could not take (it reads ENOBUFS), counts in
 *   MUTEX_STATS_A_EVENTS_LOST; one delivered counts in
 *   MUTEX_STATS_A_EVENTS_SENT. A listener that reads ENOBUFS has missed
 *   events and should read the state again (GET_CONFIG, GET_FLOWS).
 *
 * Attribute tree
 *
 *   MUTEX_A_*                 top level
 *   +- MUTEX_A_PARAMS         nest of MUTEX_PARAM_A_*
 *   +- MUTEX_A_STATS          nest of MUTEX_STATS_A_*
 *   +- MUTEX_A_POOL           (repeated, in order: index 0, 1, ...)
 *   |  nest of MUTEX_POOL_A_*
 *   |  +- MUTEX_POOL_A_BACKEND   (repeated) nest of MUTEX_BACKEND_A_*
 *   +- MUTEX_A_RULE           (repeated, in evaluation order)
 *   |  nest of MUTEX_RULE_A_*
 *   +- MUTEX_A_FLOW           nest of MUTEX_FLOW_A_*
 *   +- MUTEX_A_FLOW_COUNT     u64
 *   +- MUTEX_A_EVENT          (repeated) nest of MUTEX_EVENT_A_*
 *      +- MUTEX_EVENT_A_BACKEND  nest of MUTEX_BACKEND_A_*
 *      +- MUTEX_EVENT_A_FLOW     nest of MUTEX_FLOW_A_*
 *
 * Configuration semantics
 *   Rules are evaluated for each new connection (conntrack NEW) of TCP or
 *   UDP at IPv4/IPv6 LOCAL_OUT (local traffic) and PRE_ROUTING (forwarded
 *   traffic), in order; the first rule whose every given match holds
 *   decides. A rule without a given match attribute does not test it. A
 *   connection that matches no rule is left alone.
 *
 * Conntrack labels
 *   Every connection the module steers carries conntrack label bit
 *   MUTEX_CT_LABEL_STEERED, and a redirected one also MUTEX_CT_LABEL_REDIRECT
 *   (conntrack -L -o labels shows them; nft matches them with "ct label").
 *   The module enables connlabels (nf_connlabels_get()) in each namespace it
 *   steers in. The bits say which conntrack entries are the module's: the
 *   packet path leaves every other entry (Docker's or kube-proxy's DNAT)
 *   after one test, and GET_ORIGDST answers from the entry itself. Rules of
 *   others must not set or clear these two bits.
 *
 * Module upgrades (API version 6)
 *   A steered connection's NAT belongs to conntrack, not to the module: it
 *   outlives an unload as long as the namespace keeps conntrack and the NAT
 *   core's hooks (other users of them: an nftables nat chain holds the NAT
 *   core's hooks, a ct match conntrack; mutexctl upgrade pins both for the
 *   swap). The first
 *   configuration with a rule that a namespace receives after the module
 *   loads (SET_CONFIG) takes every confirmed entry labelled
 *   MUTEX_CT_LABEL_STEERED that the table does not hold into the table:
 *   a DNATed one with the backend of the new configuration whose family,
 *   address and port are its reply's source (the first such backend in
 *   configuration order; none if the configuration has no such backend), a
 *   redirected one without a backend. Adopted flows count from then on
 *   (their packets and bytes before are not known), hold their backend's
 *   active-flow count, are listed by GET_FLOWS, and are ended with their
 *   backend (END_FLOWS, failover) like any other. MUTEX_STATS_A_FLOWS_ADOPTED
 *   counts them; the table's limit (max_conns) applies.
 *
 * The connection table and conntrack
 *   The module decides at the NAT lookup, before conntrack confirms the new
 *   entry, and takes no reference on an unconfirmed entry (conntrack, NFQUEUE
 *   and br_netfilter expect its packet to be its only owner). The flow is
 *   tracked (a reference taken, GET_FLOWS lists it) from its first packet
 *   after the entry is confirmed, or from a GET_ORIGDST for it; the first
 *   packet is counted all the same. A decision whose first packet is
 *   dropped before confirmation leaves nothing behind.
 */
#ifndef _UAPI_LINUX_MUTEX_PROXY_H
#define _UAPI_LINUX_MUTEX_PROXY_H

#include <linux/types.h>

#define MUTEX_PROXY_GENL_NAME		"mutex_proxy"
#define MUTEX_PROXY_GENL_VERSION	1

/* Bumped when a command or attribute is added; never reused. */
#define MUTEX_PROXY_API_VERSION		6

enum mutex_cmd {
	MUTEX_CMD_UNSPEC,
	MUTEX_CMD_GET_INFO,
	MUTEX_CMD_GET_STATS,
	MUTEX_CMD_SET_PARAMS,
	MUTEX_CMD_SET_CONFIG,	/* API version 2 */
	MUTEX_CMD_GET_CONFIG,	/* API version 2 */
	MUTEX_CMD_GET_FLOWS,	/* API version 3 */
	MUTEX_CMD_GET_ORIGDST,	/* API version 3 */
	MUTEX_CMD_FLUSH_FLOWS,	/* API version 3 */
	MUTEX_CMD_SET_BACKEND,	/* API version 4 */
	MUTEX_CMD_END_FLOWS,	/* API version 4 */
	MUTEX_CMD_EVENT,	/* API version 4: notifications only */

	__MUTEX_CMD_MAX,
};
#define MUTEX_CMD_MAX (__MUTEX_CMD_MAX - 1)

/* Multicast groups (API version 4), see "Multicast groups" */
#define MUTEX_PROXY_MCGRP_EVENTS	"events"
#define MUTEX_PROXY_MCGRP_FLOWS		"flows"
/* The longest a flow event waits in its CPU's batch, in milliseconds. */
#define MUTEX_EVENT_FLUSH_MS		100

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
 * @MUTEX_A_GENERATION: u64, generation of a namespace's configuration:
 *	0 until the first SET_CONFIG, then one more with each replacement
 * @MUTEX_A_POOL: nest, enum mutex_pool_attr; repeated, at most
 *	MUTEX_MAX_POOLS; the n-th is pool index n-1 for MUTEX_RULE_A_POOL
 * @MUTEX_A_RULE: nest, enum mutex_rule_attr; repeated, at most
 *	MUTEX_MAX_RULES, in evaluation order
 * @MUTEX_A_FLOW: nest, enum mutex_flow_attr: one flow of the connection
 *	table (GET_FLOWS, GET_ORIGDST) or a post-NAT 5-tuple (GET_ORIGDST
 *	request)
 * @MUTEX_A_EVENT: nest, enum mutex_event_attr: one event (MUTEX_CMD_EVENT
 *	messages only; API version 4)
 * @MUTEX_A_FLOW_COUNT: u64, a number of flows (FLUSH_FLOWS: removed;
 *	GET_STATS: in the connection table now)
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
	MUTEX_A_GENERATION,
	MUTEX_A_POOL,
	MUTEX_A_RULE,
	MUTEX_A_FLOW,
	MUTEX_A_FLOW_COUNT,
	MUTEX_A_EVENT,

	__MUTEX_A_MAX,
};
#define MUTEX_A_MAX (__MUTEX_A_MAX - 1)

/*
 * Bits of MUTEX_A_FEATURES
 * MUTEX_FEATURE_NETNS: state is per network namespace
 * MUTEX_FEATURE_STATS: GET_STATS answers per-CPU 64-bit counters
 * MUTEX_FEATURE_PARAMS: SET_PARAMS changes module parameters at run time
 * MUTEX_FEATURE_HOOKS_IPV4: IPv4 is steered (LOCAL_OUT and PRE_ROUTING)
 * MUTEX_FEATURE_HOOKS_IPV6: IPv6 is steered (IPv6 is enabled)
 *   Either only in a namespace whose configuration has a rule: the module
 *   enables conntrack, NAT and its hooks there with the first rule and
 *   releases them when the configuration is emptied; a namespace that never
 *   configures a rule pays nothing, and its MUTEX_STATS_A_PKTS_SEEN stays 0.
 * MUTEX_FEATURE_CONFIG: SET_CONFIG and GET_CONFIG are offered (API version 2)
 * MUTEX_FEATURE_CGROUP: rules may match a cgroup v2 path
 * MUTEX_FEATURE_FLOWS: connection table with GET_FLOWS, GET_ORIGDST and
 *	FLUSH_FLOWS (API version 3)
 * MUTEX_FEATURE_BACKEND: SET_BACKEND and END_FLOWS (API version 4)
 * MUTEX_FEATURE_EVENTS: the "events" and "flows" multicast groups (API
 *	version 4)
 * MUTEX_FEATURE_RULE_COUNTERS: GET_CONFIG reports MUTEX_RULE_A_MATCHES and
 *	each backend's reply-direction traffic (API version 5)
 */
#define MUTEX_FEATURE_NETNS		(1ULL << 0)
#define MUTEX_FEATURE_STATS		(1ULL << 1)
#define MUTEX_FEATURE_PARAMS		(1ULL << 2)
#define MUTEX_FEATURE_HOOKS_IPV4	(1ULL << 3)
#define MUTEX_FEATURE_HOOKS_IPV6	(1ULL << 4)
#define MUTEX_FEATURE_CONFIG		(1ULL << 5)
#define MUTEX_FEATURE_CGROUP		(1ULL << 6)
#define MUTEX_FEATURE_FLOWS		(1ULL << 7)
#define MUTEX_FEATURE_BACKEND		(1ULL << 8)
#define MUTEX_FEATURE_EVENTS		(1ULL << 9)
#define MUTEX_FEATURE_RULE_COUNTERS	(1ULL << 10)

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

/*
 * An interface index no device ever has (the kernel gives devices indexes
 * 1..INT_MAX): a rule with it as MUTEX_RULE_A_OIF or MUTEX_RULE_A_IIF
 * matches nothing, exactly as if it were absent, yet keeps its place and
 * name. Userspace that names interfaces (mutexd) sends it for a name no
 * interface has now and sends the real index once one appears: the kernel
 * sees indexes only, so following renames and re-creations is userspace's.
 */
#define MUTEX_IFINDEX_NONE		0xffffffffU

/* Conntrack label bits of steered connections (see "Conntrack labels"). */
#define MUTEX_CT_LABEL_STEERED		127
#define MUTEX_CT_LABEL_REDIRECT		126

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
 *	(max_conns): steered flows tracked per namespace. A full table
 *	makes room as conntrack's early drop does: the collector evicts flows
 *	older than a second that never saw a reply
 *	(MUTEX_STATS_A_TABLE_EVICTIONS) until an eighth of the table is free. A new flow steered while the table is full is
 *	still steered (the NAT engine does not need the table) and GET_ORIGDST
 *	still answers for it (from its conntrack entry), but it is not
 *	tracked: MUTEX_STATS_A_TABLE_FULL counts it, and it has no packet
 *	counters, no GET_FLOWS entry and no place in a pool's
 *	least-connections count. Lowering the value removes nothing: it
 *	applies to new flows.
 * @MUTEX_PARAM_A_ENABLE_ACCOUNTING: u32, 0 or 1 (perf_enable_accounting,
 *	default 1): count the packets and bytes of steered flows (per flow,
 *	per backend, MUTEX_STATS_A_PKTS_STEERED/BYTES_STEERED). 0 stops the
 *	per-packet work (flows are still steered and tracked); for
 *	measurements. Since API version 3.
 */
enum mutex_param_attr {
	MUTEX_PARAM_A_UNSPEC,
	MUTEX_PARAM_A_ENABLE_BATCHING,
	MUTEX_PARAM_A_BATCH_SIZE,
	MUTEX_PARAM_A_CACHE_SIZE,
	MUTEX_PARAM_A_MAX_CONNS,
	MUTEX_PARAM_A_ENABLE_ACCOUNTING,

	__MUTEX_PARAM_A_MAX,
};
#define MUTEX_PARAM_A_MAX (__MUTEX_PARAM_A_MAX - 1)

/**
 * enum mutex_stats_attr - attributes nested in MUTEX_A_STATS, all u64
 *	counters of one namespace, summed over CPUs, monotonic from the
 *	namespace's creation (or the module's load)
 * @MUTEX_STATS_A_UNSPEC: unused
 * @MUTEX_STATS_A_PAD: padding
 * @MUTEX_STATS_A_PKTS_SEEN: packets that entered the module's hooks (while the
 *	namespace has a rule)
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
 * @MUTEX_STATS_A_BYTES_STEERED: bytes (IP packet length) of steered flows
 *	(API version 3)
 * @MUTEX_STATS_A_FLOWS_ADOPTED: connections steered before the module was
 *	loaded (by an earlier load of it) and taken into the connection table
 *	by the namespace's first configuration with a rule (API version 6;
 *	see "Module upgrades")
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
	MUTEX_STATS_A_BYTES_STEERED,
	MUTEX_STATS_A_FLOWS_ADOPTED,

	__MUTEX_STATS_A_MAX,
};
#define MUTEX_STATS_A_MAX (__MUTEX_STATS_A_MAX - 1)

/* ---- configuration (API version 2) ---- */

#define MUTEX_MAX_POOLS		256
#define MUTEX_MAX_BACKENDS	256	/* per pool */
#define MUTEX_MAX_RULES		65535
#define MUTEX_NAME_MAX		32	/* pool and rule names, with the NUL */
#define MUTEX_CGROUP_PATH_MAX	4096	/* with the NUL */

/**
 * enum mutex_scheduler - how a pool chooses a backend for a new flow;
 *	only backends in state MUTEX_BACKEND_UP are ever chosen
 * @MUTEX_SCHED_RR: round robin
 * @MUTEX_SCHED_WRR: smooth weighted round robin (by MUTEX_BACKEND_A_WEIGHT)
 * @MUTEX_SCHED_SOURCE_HASH: keyed hash (siphash, random key per boot) of
 *	the source address: a source sticks to one backend while the set of
 *	up backends does not change
 * @MUTEX_SCHED_LEAST_CONN: fewest active flows relative to the weight
 *	(active/weight smallest; ties go to the higher weight, then the first)
 * @MUTEX_SCHED_FAILOVER: the first backend with the lowest priority value
 */
enum mutex_scheduler {
	MUTEX_SCHED_RR,
	MUTEX_SCHED_WRR,
	MUTEX_SCHED_SOURCE_HASH,
	MUTEX_SCHED_LEAST_CONN,
	MUTEX_SCHED_FAILOVER,

	__MUTEX_SCHED_MAX,
};
#define MUTEX_SCHED_MAX (__MUTEX_SCHED_MAX - 1)

/**
 * enum mutex_failure_mode - what happens to a new flow sent to a pool
 *	that has no backend up
 * @MUTEX_FAILURE_CLOSED: drop it (counted in flows_dropped): the node's
 *	address never leaks (default)
 * @MUTEX_FAILURE_OPEN: leave it alone: it goes to its original destination
 */
enum mutex_failure_mode {
	MUTEX_FAILURE_CLOSED,
	MUTEX_FAILURE_OPEN,

	__MUTEX_FAILURE_MAX,
};
#define MUTEX_FAILURE_MAX (__MUTEX_FAILURE_MAX - 1)

/**
 * enum mutex_pool_attr - attributes nested in MUTEX_A_POOL
 * @MUTEX_POOL_A_UNSPEC: unused
 * @MUTEX_POOL_A_NAME: NUL-terminated string, required, 1 to
 *	MUTEX_NAME_MAX - 1 characters of [A-Za-z0-9_.-], unique
 * @MUTEX_POOL_A_SCHEDULER: u8, enum mutex_scheduler (default RR)
 * @MUTEX_POOL_A_FAILURE_MODE: u8, enum mutex_failure_mode (default CLOSED)
 * @MUTEX_POOL_A_BACKEND: nest, enum mutex_backend_attr; repeated, at most
 *	MUTEX_MAX_BACKENDS; a pool may have none (then it always fails)
 */
enum mutex_pool_attr {
	MUTEX_POOL_A_UNSPEC,
	MUTEX_POOL_A_NAME,
	MUTEX_POOL_A_SCHEDULER,
	MUTEX_POOL_A_FAILURE_MODE,
	MUTEX_POOL_A_BACKEND,

	__MUTEX_POOL_A_MAX,
};
#define MUTEX_POOL_A_MAX (__MUTEX_POOL_A_MAX - 1)

/**
 * enum mutex_backend_state - administrative state of a backend
 * @MUTEX_BACKEND_UP: takes new flows
 * @MUTEX_BACKEND_DOWN: takes no new flows
 * @MUTEX_BACKEND_DRAIN: takes no new flows; its existing flows go on
 *	(they do in state down too: the NAT of a flow is never changed)
 */
enum mutex_backend_state {
	MUTEX_BACKEND_UP,
	MUTEX_BACKEND_DOWN,
	MUTEX_BACKEND_DRAIN,

	__MUTEX_BACKEND_STATE_MAX,
};
#define MUTEX_BACKEND_STATE_MAX (__MUTEX_BACKEND_STATE_MAX - 1)

/**
 * enum mutex_backend_attr - attributes nested in MUTEX_POOL_A_BACKEND
 * @MUTEX_BACKEND_A_UNSPEC: unused
 * @MUTEX_BACKEND_A_PAD: padding for 64-bit attributes
 * @MUTEX_BACKEND_A_FAMILY: u8, AF_INET or AF_INET6; with
 *	MUTEX_BACKEND_A_ADDR. Both absent: a local port of this node (a pool
 *	for redirect)
 * @MUTEX_BACKEND_A_ADDR: binary, 4 bytes (AF_INET) or 16 (AF_INET6),
 *	network byte order
 * @MUTEX_BACKEND_A_PORT: u16, host byte order, required, 1..65535
 * @MUTEX_BACKEND_A_WEIGHT: u32, 1..65535 (default 1)
 * @MUTEX_BACKEND_A_PRIORITY: u8, lower is preferred (default 0)
 * @MUTEX_BACKEND_A_STATE: u8, enum mutex_backend_state (default UP)
 * @MUTEX_BACKEND_A_ACTIVE_FLOWS: u64, GET_CONFIG only: flows steered to
 *	the backend that are in the connection table now
 * @MUTEX_BACKEND_A_TOTAL_FLOWS: u64, GET_CONFIG only: flows ever steered
 *	to the backend
 * @MUTEX_BACKEND_A_PKTS: u64, GET_CONFIG only: packets of flows steered
 *	to the backend, both directions (API version 3)
 * @MUTEX_BACKEND_A_BYTES: u64, GET_CONFIG only: their bytes (API
 *	version 3)
 * @MUTEX_BACKEND_A_PKTS_REPLY: u64, GET_CONFIG only: of MUTEX_BACKEND_A_PKTS,
 *	those of the reply direction (from the backend towards the client);
 *	the rest went towards the backend. Read together with it, so the
 *	difference is never negative (API version 5)
 * @MUTEX_BACKEND_A_BYTES_REPLY: u64, GET_CONFIG only: their bytes, of
 *	MUTEX_BACKEND_A_BYTES (API version 5)
 *
 * The run-time counters belong to the backend (pool name, family, address,
 * port), not to one configuration: a SET_CONFIG that keeps a backend keeps
 * its counters, whatever else changes.
 */
enum mutex_backend_attr {
	MUTEX_BACKEND_A_UNSPEC,
	MUTEX_BACKEND_A_PAD,
	MUTEX_BACKEND_A_FAMILY,
	MUTEX_BACKEND_A_ADDR,
	MUTEX_BACKEND_A_PORT,
	MUTEX_BACKEND_A_WEIGHT,
	MUTEX_BACKEND_A_PRIORITY,
	MUTEX_BACKEND_A_STATE,
	MUTEX_BACKEND_A_ACTIVE_FLOWS,
	MUTEX_BACKEND_A_TOTAL_FLOWS,
	MUTEX_BACKEND_A_PKTS,
	MUTEX_BACKEND_A_BYTES,
	MUTEX_BACKEND_A_PKTS_REPLY,
	MUTEX_BACKEND_A_BYTES_REPLY,

	__MUTEX_BACKEND_A_MAX,
};
#define MUTEX_BACKEND_A_MAX (__MUTEX_BACKEND_A_MAX - 1)

/**
 * enum mutex_action - what a matching rule does with a new flow
 * @MUTEX_ACTION_REDIRECT: NAT to a local port (MUTEX_RULE_A_TO_PORT, or a
 *	backend of a pool of local ports); SO_ORIGINAL_DST and
 *	IP6T_SO_ORIGINAL_DST answer as after iptables REDIRECT
 * @MUTEX_ACTION_DNAT: NAT to a backend of a pool of remote backends
 * @MUTEX_ACTION_BYPASS: leave the flow alone and stop evaluating
 * @MUTEX_ACTION_DROP: drop the flow
 */
enum mutex_action {
	MUTEX_ACTION_REDIRECT,
	MUTEX_ACTION_DNAT,
	MUTEX_ACTION_BYPASS,
	MUTEX_ACTION_DROP,

	__MUTEX_ACTION_MAX,
};
#define MUTEX_ACTION_MAX (__MUTEX_ACTION_MAX - 1)

/**
 * enum mutex_rule_attr - attributes nested in MUTEX_A_RULE; every
 *	match attribute is optional, a rule without any matches every TCP
 *	and UDP flow
 * @MUTEX_RULE_A_UNSPEC: unused
 * @MUTEX_RULE_A_NAME: NUL-terminated string, optional label, at most
 *	MUTEX_NAME_MAX - 1 characters
 * @MUTEX_RULE_A_FAMILY: u8, AF_INET or AF_INET6 (absent: both); required
 *	with a prefix
 * @MUTEX_RULE_A_PROTO: u8, IPPROTO_TCP or IPPROTO_UDP (absent: both)
 * @MUTEX_RULE_A_DST_ADDR: binary, 4 or 16 bytes (the rule's family),
 *	network byte order; with MUTEX_RULE_A_DST_PLEN
 * @MUTEX_RULE_A_DST_PLEN: u8, prefix length, 0..32 or 0..128
 * @MUTEX_RULE_A_DST_PORT_MIN: u16, host byte order, 1..65535; with
 *	MUTEX_RULE_A_DST_PORT_MAX, the inclusive range of destination ports
 * @MUTEX_RULE_A_DST_PORT_MAX: u16, host byte order, >= the minimum
 * @MUTEX_RULE_A_SRC_ADDR: binary, as MUTEX_RULE_A_DST_ADDR, with
 *	MUTEX_RULE_A_SRC_PLEN
 * @MUTEX_RULE_A_SRC_PLEN: u8, as MUTEX_RULE_A_DST_PLEN
 * @MUTEX_RULE_A_SRC_PORT_MIN: u16, as MUTEX_RULE_A_DST_PORT_MIN
 * @MUTEX_RULE_A_SRC_PORT_MAX: u16, as MUTEX_RULE_A_DST_PORT_MAX
 * @MUTEX_RULE_A_UID_MIN: u32, with MUTEX_RULE_A_UID_MAX: inclusive range of
 *	the uid owning the local socket (in the initial user namespace);
 *	packets without a local socket do not match
 * @MUTEX_RULE_A_UID_MAX: u32, >= the minimum
 * @MUTEX_RULE_A_GID_MIN: u32, as UID, for the socket file opener's fsgid
 * @MUTEX_RULE_A_GID_MAX: u32
 * @MUTEX_RULE_A_CGROUP: NUL-terminated string, cgroup v2 path such as
 *	"/system.slice/x.service": the local socket's cgroup is it or one of
 *	its descendants. The path, not the cgroup found there, is what
 *	matches: a cgroup removed and created again at the path (a systemd
 *	unit restarting) is matched, and a path that does not exist yet is
 *	accepted and matches nothing until a cgroup appears there. Relative
 *	to the cgroup namespace of the process that sets the configuration;
 *	absolute, without empty, "." or ".." components (-EINVAL)
 * @MUTEX_RULE_A_MARK_VALUE: u32, with MUTEX_RULE_A_MARK_MASK: the packet
 *	matches if (mark & mask) == value; value must have no bit outside mask
 * @MUTEX_RULE_A_MARK_MASK: u32, non-zero
 * @MUTEX_RULE_A_OIF: u32, output interface index (LOCAL_OUT only: a
 *	forwarded packet has no output interface yet at PRE_ROUTING), or
 *	MUTEX_IFINDEX_NONE
 * @MUTEX_RULE_A_IIF: u32, input interface index (PRE_ROUTING only), or
 *	MUTEX_IFINDEX_NONE
 * @MUTEX_RULE_A_ACTION: u8, enum mutex_action, required
 * @MUTEX_RULE_A_TO_PORT: u16, host byte order, 1..65535: redirect target
 * @MUTEX_RULE_A_POOL: u32, index of a MUTEX_A_POOL of the request
 * @MUTEX_RULE_A_PAD: padding for 64-bit attributes (API version 5)
 * @MUTEX_RULE_A_MATCHES: u64, GET_CONFIG only (SET_CONFIG refuses it): new
 *	flows the rule decided, whatever its action did with them (one per
 *	conntrack entry; a TCP segment that opens an entry mid-stream is not
 *	counted, and no packet after the first is). Per CPU, summed when read.
 *	Kept across a SET_CONFIG for rules that keep their name: the n-th rule
 *	of a name takes over the count of the n-th rule of that name before;
 *	an unnamed rule counts from 0 after every SET_CONFIG. The sum over
 *	all rules is at most MUTEX_STATS_A_FLOWS_NEW's growth since they were
 *	created (API version 5)
 */
enum mutex_rule_attr {
	MUTEX_RULE_A_UNSPEC,
	MUTEX_RULE_A_NAME,
	MUTEX_RULE_A_FAMILY,
	MUTEX_RULE_A_PROTO,
	MUTEX_RULE_A_DST_ADDR,
	MUTEX_RULE_A_DST_PLEN,
	MUTEX_RULE_A_DST_PORT_MIN,
	MUTEX_RULE_A_DST_PORT_MAX,
	MUTEX_RULE_A_SRC_ADDR,
	MUTEX_RULE_A_SRC_PLEN,
	MUTEX_RULE_A_SRC_PORT_MIN,
	MUTEX_RULE_A_SRC_PORT_MAX,
	MUTEX_RULE_A_UID_MIN,
	MUTEX_RULE_A_UID_MAX,
	MUTEX_RULE_A_GID_MIN,
	MUTEX_RULE_A_GID_MAX,
	MUTEX_RULE_A_CGROUP,
	MUTEX_RULE_A_MARK_VALUE,
	MUTEX_RULE_A_MARK_MASK,
	MUTEX_RULE_A_OIF,
	MUTEX_RULE_A_IIF,
	MUTEX_RULE_A_ACTION,
	MUTEX_RULE_A_TO_PORT,
	MUTEX_RULE_A_POOL,
	MUTEX_RULE_A_PAD,
	MUTEX_RULE_A_MATCHES,

	__MUTEX_RULE_A_MAX,
};
#define MUTEX_RULE_A_MAX (__MUTEX_RULE_A_MAX - 1)

/* ---- connection table (API version 3) ---- */

/**
 * enum mutex_flow_attr - attributes nested in MUTEX_A_FLOW: one steered
 *	flow. Addresses are binary, 4 (AF_INET) or 16 (AF_INET6) bytes,
 *	network byte order; ports are u16 in host byte order.
 * @MUTEX_FLOW_A_UNSPEC: unused
 * @MUTEX_FLOW_A_PAD: padding for 64-bit attributes
 * @MUTEX_FLOW_A_FAMILY: u8, AF_INET or AF_INET6
 * @MUTEX_FLOW_A_PROTO: u8, IPPROTO_TCP or IPPROTO_UDP
 * @MUTEX_FLOW_A_SRC_ADDR: the client's address
 * @MUTEX_FLOW_A_SRC_PORT: the client's port
 * @MUTEX_FLOW_A_DST_ADDR: where the flow was steered: the local address
 *	(redirect) or the backend (dnat), i.e. the destination after NAT
 * @MUTEX_FLOW_A_DST_PORT: its port
 * @MUTEX_FLOW_A_ORIG_DST_ADDR: reply only: the destination the client
 *	asked for, before NAT
 * @MUTEX_FLOW_A_ORIG_DST_PORT: reply only: its port
 * @MUTEX_FLOW_A_ACTION: u8, reply only: enum mutex_action (REDIRECT or
 *	DNAT)
 * @MUTEX_FLOW_A_PKTS_ORIG: u64, reply only: packets client -> destination
 * @MUTEX_FLOW_A_BYTES_ORIG: u64, reply only: their bytes (IP length)
 * @MUTEX_FLOW_A_PKTS_REPLY: u64, reply only: packets destination -> client
 * @MUTEX_FLOW_A_BYTES_REPLY: u64, reply only: their bytes
 * @MUTEX_FLOW_A_AGE_MS: u64, reply only: milliseconds since the flow began
 * @MUTEX_FLOW_A_IDLE_MS: u64, reply only: milliseconds since its last
 *	accounted packet (since it began if none)
 *
 * Packets are counted once each, where they leave the node's IP stack
 * (POST_ROUTING) or, coming from another host, where they are delivered
 * locally (LOCAL_IN); with perf_enable_accounting=1.
 */
enum mutex_flow_attr {
	MUTEX_FLOW_A_UNSPEC,
	MUTEX_FLOW_A_PAD,
	MUTEX_FLOW_A_FAMILY,
	MUTEX_FLOW_A_PROTO,
	MUTEX_FLOW_A_SRC_ADDR,
	MUTEX_FLOW_A_SRC_PORT,
	MUTEX_FLOW_A_DST_ADDR,
	MUTEX_FLOW_A_DST_PORT,
	MUTEX_FLOW_A_ORIG_DST_ADDR,
	MUTEX_FLOW_A_ORIG_DST_PORT,
	MUTEX_FLOW_A_ACTION,
	MUTEX_FLOW_A_PKTS_ORIG,
	MUTEX_FLOW_A_BYTES_ORIG,
	MUTEX_FLOW_A_PKTS_REPLY,
	MUTEX_FLOW_A_BYTES_REPLY,
	MUTEX_FLOW_A_AGE_MS,
	MUTEX_FLOW_A_IDLE_MS,

	__MUTEX_FLOW_A_MAX,
};
#define MUTEX_FLOW_A_MAX (__MUTEX_FLOW_A_MAX - 1)

/* ---- events (API version 4) ---- */

/**
 * enum mutex_event_type - what an event reports
 * @MUTEX_EVENT_CONFIG: a SET_CONFIG replaced the configuration
 *	(MUTEX_EVENT_A_GENERATION: the new generation); group "events"
 * @MUTEX_EVENT_BACKEND: a SET_BACKEND changed a backend
 *	(MUTEX_EVENT_A_GENERATION, MUTEX_EVENT_A_POOL, MUTEX_EVENT_A_BACKEND
 *	with its identity, state and weight after the change); group
 *	"events"
 * @MUTEX_EVENT_FLOW_START: a steered flow was tracked (MUTEX_EVENT_A_FLOW,
 *	its counters so far); group "flows"
 * @MUTEX_EVENT_FLOW_END: a tracked flow left the table (its connection
 *	ended, or FLUSH_FLOWS, or eviction); MUTEX_EVENT_A_FLOW with its final
 *	counters; group "flows"
 */
enum mutex_event_type {
	MUTEX_EVENT_CONFIG,
	MUTEX_EVENT_BACKEND,
	MUTEX_EVENT_FLOW_START,
	MUTEX_EVENT_FLOW_END,

	__MUTEX_EVENT_MAX,
};
#define MUTEX_EVENT_MAX (__MUTEX_EVENT_MAX - 1)

/**
 * enum mutex_event_attr - attributes nested in MUTEX_A_EVENT
 * @MUTEX_EVENT_A_UNSPEC: unused
 * @MUTEX_EVENT_A_PAD: padding for 64-bit attributes
 * @MUTEX_EVENT_A_TYPE: u8, enum mutex_event_type, always present first
 * @MUTEX_EVENT_A_GENERATION: u64, the configuration's generation
 * @MUTEX_EVENT_A_POOL: NUL-terminated string, the pool's name
 * @MUTEX_EVENT_A_BACKEND: nest, enum mutex_backend_attr: FAMILY, ADDR (not
 *	for a local port), PORT, WEIGHT, STATE
 * @MUTEX_EVENT_A_FLOW: nest, enum mutex_flow_attr, as GET_FLOWS gives it
 */
enum mutex_event_attr {
	MUTEX_EVENT_A_UNSPEC,
	MUTEX_EVENT_A_PAD,
	MUTEX_EVENT_A_TYPE,
	MUTEX_EVENT_A_GENERATION,
	MUTEX_EVENT_A_POOL,
	MUTEX_EVENT_A_BACKEND,
	MUTEX_EVENT_A_FLOW,

	__MUTEX_EVENT_A_MAX,
};
#define MUTEX_EVENT_A_MAX (__MUTEX_EVENT_A_MAX - 1)

#endif /* _UAPI_LINUX_MUTEX_PROXY_H */
