// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: every attribute policy of the generic netlink family, in one
 * place. The tree they describe is documented in
 * include/uapi/linux/mutex_proxy.h; netlink.c (the commands) and
 * netlink_config.c (pools and rules) parse with them.
 */
#include <linux/in6.h>
#include <linux/mutex_proxy.h>
#include <net/netlink.h>

#include "policy.h"

const struct nla_policy mutex_proxy_param_policy[MUTEX_PARAM_A_MAX + 1] = {
	[MUTEX_PARAM_A_ENABLE_BATCHING]	= { .type = NLA_U32 },
	[MUTEX_PARAM_A_BATCH_SIZE]	= { .type = NLA_U32 },
	[MUTEX_PARAM_A_CACHE_SIZE]	= { .type = NLA_U32 },
	[MUTEX_PARAM_A_MAX_CONNS]	= { .type = NLA_U32 },
	[MUTEX_PARAM_A_ENABLE_ACCOUNTING] = { .type = NLA_U32 },
};

const struct nla_policy mutex_proxy_set_params_policy[MUTEX_A_MAX + 1] = {
	[MUTEX_A_PARAMS] = NLA_POLICY_NESTED(mutex_proxy_param_policy),
};

const struct nla_policy mutex_proxy_set_config_policy[MUTEX_A_MAX + 1] = {
	[MUTEX_A_GENERATION]	= { .type = NLA_U64 },
	/* Repeated; each is validated as it is decoded (netlink_config.c). */
	[MUTEX_A_POOL]		= { .type = NLA_NESTED },
	[MUTEX_A_RULE]		= { .type = NLA_NESTED },
};

/*
 * GET_ORIGDST: the post-NAT 5-tuple. Values the policy cannot express
 * (family and protocol sets, an address length that depends on the family,
 * port 0) are checked by mutex_proxy_parse_tuple() (netlink.c) with messages naming the
 * attribute. The attributes that only replies carry are refused by name.
 */
const struct nla_policy mutex_proxy_tuple_policy[MUTEX_FLOW_A_MAX + 1] = {
	[MUTEX_FLOW_A_FAMILY]		= { .type = NLA_U8 },
	[MUTEX_FLOW_A_PROTO]		= { .type = NLA_U8 },
	[MUTEX_FLOW_A_SRC_ADDR]		= { .type = NLA_BINARY,
					    .len = sizeof(struct in6_addr) },
	[MUTEX_FLOW_A_SRC_PORT]		= { .type = NLA_U16 },
	[MUTEX_FLOW_A_DST_ADDR]		= { .type = NLA_BINARY,
					    .len = sizeof(struct in6_addr) },
	[MUTEX_FLOW_A_DST_PORT]		= { .type = NLA_U16 },
	[MUTEX_FLOW_A_ORIG_DST_ADDR]	= {
		.type = NLA_REJECT,
		.reject_message = "MUTEX_FLOW_A_ORIG_DST_ADDR is only in replies",
	},
	[MUTEX_FLOW_A_ORIG_DST_PORT]	= {
		.type = NLA_REJECT,
		.reject_message = "MUTEX_FLOW_A_ORIG_DST_PORT is only in replies",
	},
	[MUTEX_FLOW_A_ACTION]		= {
		.type = NLA_REJECT,
		.reject_message = "MUTEX_FLOW_A_ACTION is only in replies",
	},
	[MUTEX_FLOW_A_PKTS_ORIG]	= {
		.type = NLA_REJECT,
		.reject_message = "flow counters are only in replies",
	},
	[MUTEX_FLOW_A_BYTES_ORIG]	= {
		.type = NLA_REJECT,
		.reject_message = "flow counters are only in replies",
	},
	[MUTEX_FLOW_A_PKTS_REPLY]	= {
		.type = NLA_REJECT,
		.reject_message = "flow counters are only in replies",
	},
	[MUTEX_FLOW_A_BYTES_REPLY]	= {
		.type = NLA_REJECT,
		.reject_message = "flow counters are only in replies",
	},
	[MUTEX_FLOW_A_AGE_MS]		= {
		.type = NLA_REJECT,
		.reject_message = "flow times are only in replies",
	},
	[MUTEX_FLOW_A_IDLE_MS]		= {
		.type = NLA_REJECT,
		.reject_message = "flow times are only in replies",
	},
};

const struct nla_policy mutex_proxy_get_origdst_policy[MUTEX_A_MAX + 1] = {
	[MUTEX_A_FLOW] = NLA_POLICY_NESTED(mutex_proxy_tuple_policy),
};

const struct nla_policy mutex_proxy_backend_policy[MUTEX_BACKEND_A_MAX + 1] = {
	[MUTEX_BACKEND_A_FAMILY]	= { .type = NLA_U8 },
	[MUTEX_BACKEND_A_ADDR]		= { .type = NLA_BINARY, .len = 16 },
	[MUTEX_BACKEND_A_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	/* 1..65535, checked by hand: 6.1 policies hold only s16 bounds. */
	[MUTEX_BACKEND_A_WEIGHT]	= { .type = NLA_U32 },
	[MUTEX_BACKEND_A_PRIORITY]	= { .type = NLA_U8 },
	[MUTEX_BACKEND_A_STATE]		=
		NLA_POLICY_MAX(NLA_U8, MUTEX_BACKEND_STATE_MAX),
	[MUTEX_BACKEND_A_ACTIVE_FLOWS]	= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_TOTAL_FLOWS]	= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_PKTS]		= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_BYTES]		= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_PKTS_REPLY]	= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
	[MUTEX_BACKEND_A_BYTES_REPLY]	= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
};

const struct nla_policy mutex_proxy_pool_policy[MUTEX_POOL_A_MAX + 1] = {
	[MUTEX_POOL_A_NAME]		= { .type = NLA_NUL_STRING,
					    .len = MUTEX_NAME_MAX - 1 },
	[MUTEX_POOL_A_SCHEDULER]	= NLA_POLICY_MAX(NLA_U8, MUTEX_SCHED_MAX),
	[MUTEX_POOL_A_FAILURE_MODE]	=
		NLA_POLICY_MAX(NLA_U8, MUTEX_FAILURE_MAX),
	[MUTEX_POOL_A_BACKEND]		=
		NLA_POLICY_NESTED(mutex_proxy_backend_policy),
};

const struct nla_policy mutex_proxy_rule_policy[MUTEX_RULE_A_MAX + 1] = {
	[MUTEX_RULE_A_NAME]		= { .type = NLA_NUL_STRING,
					    .len = MUTEX_NAME_MAX - 1 },
	[MUTEX_RULE_A_FAMILY]		= { .type = NLA_U8 },
	[MUTEX_RULE_A_PROTO]		= { .type = NLA_U8 },
	[MUTEX_RULE_A_DST_ADDR]		= { .type = NLA_BINARY, .len = 16 },
	[MUTEX_RULE_A_DST_PLEN]		= NLA_POLICY_MAX(NLA_U8, 128),
	[MUTEX_RULE_A_DST_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_DST_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_SRC_ADDR]		= { .type = NLA_BINARY, .len = 16 },
	[MUTEX_RULE_A_SRC_PLEN]		= NLA_POLICY_MAX(NLA_U8, 128),
	[MUTEX_RULE_A_SRC_PORT_MIN]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_SRC_PORT_MAX]	= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_UID_MIN]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_UID_MAX]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_GID_MIN]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_GID_MAX]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_CGROUP]		= { .type = NLA_NUL_STRING,
					    .len = MUTEX_CGROUP_PATH_MAX - 1 },
	[MUTEX_RULE_A_MARK_VALUE]	= { .type = NLA_U32 },
	[MUTEX_RULE_A_MARK_MASK]	= NLA_POLICY_MIN(NLA_U32, 1),
	[MUTEX_RULE_A_OIF]		= NLA_POLICY_MIN(NLA_U32, 1),
	[MUTEX_RULE_A_IIF]		= NLA_POLICY_MIN(NLA_U32, 1),
	[MUTEX_RULE_A_ACTION]		= NLA_POLICY_MAX(NLA_U8, MUTEX_ACTION_MAX),
	[MUTEX_RULE_A_TO_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[MUTEX_RULE_A_POOL]		= { .type = NLA_U32 },
	[MUTEX_RULE_A_MATCHES]		= {
		.type = NLA_REJECT,
		.reject_message = "counters cannot be set",
	},
};

/*
 * SET_BACKEND and END_FLOWS: the pool and backend are decoded by
 * mutex_proxy_nl_backend_change() (netlink_config.c), so that a value out of
 * range is -EINVAL with a message, as for SET_CONFIG.
 */
const struct nla_policy mutex_proxy_set_backend_policy[MUTEX_A_MAX + 1] = {
	[MUTEX_A_GENERATION]	= { .type = NLA_U64 },
	[MUTEX_A_POOL]		= { .type = NLA_NESTED },
};

/* END_FLOWS's filter: only a protocol. */
static const struct nla_policy
mutex_proxy_end_flows_filter_policy[MUTEX_FLOW_A_MAX + 1] = {
	[MUTEX_FLOW_A_PROTO]	= { .type = NLA_U8 },
};

const struct nla_policy mutex_proxy_end_flows_policy[MUTEX_A_MAX + 1] = {
	[MUTEX_A_POOL]		= { .type = NLA_NESTED },
	[MUTEX_A_FLOW]		=
		NLA_POLICY_NESTED(mutex_proxy_end_flows_filter_policy),
};
