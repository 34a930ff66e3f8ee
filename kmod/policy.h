/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the attribute policies of the generic netlink family
 * (policy.c).
 */
#ifndef _MUTEX_PROXY_POLICY_H
#define _MUTEX_PROXY_POLICY_H

#include <linux/mutex_proxy.h>
#include <net/netlink.h>

extern const struct nla_policy mutex_proxy_param_policy[MUTEX_PARAM_A_MAX + 1];
extern const struct nla_policy mutex_proxy_set_params_policy[MUTEX_A_MAX + 1];
extern const struct nla_policy mutex_proxy_set_config_policy[MUTEX_A_MAX + 1];
extern const struct nla_policy mutex_proxy_tuple_policy[MUTEX_FLOW_A_MAX + 1];
extern const struct nla_policy mutex_proxy_get_origdst_policy[MUTEX_A_MAX + 1];
extern const struct nla_policy mutex_proxy_backend_policy[MUTEX_BACKEND_A_MAX + 1];
extern const struct nla_policy mutex_proxy_pool_policy[MUTEX_POOL_A_MAX + 1];
extern const struct nla_policy mutex_proxy_rule_policy[MUTEX_RULE_A_MAX + 1];
extern const struct nla_policy mutex_proxy_set_backend_policy[MUTEX_A_MAX + 1];
extern const struct nla_policy mutex_proxy_end_flows_policy[MUTEX_A_MAX + 1];

#endif /* _MUTEX_PROXY_POLICY_H */
