// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: generic netlink family MUTEX_PROXY_GENL_NAME.
 *
 * The ABI is documented in include/uapi/linux/mutex_proxy.h. The family is
 * netns-aware: every request acts on the namespace of the requesting socket,
 * which the socket keeps alive for the duration of the request.
 *
 * Validation is strict everywhere: resv_start_op is 0, so the core checks the
 * reserved header fields and nlmsg_flags of every command, parses with
 * NL_VALIDATE_STRICT, and refuses every attribute for commands without a
 * policy (GET_INFO, GET_STATS take none). parallel_ops: the handlers need no
 * genl_mutex; parameters have their own mutex, statistics are per-CPU.
 */
#include <linux/bits.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "mutex_proxy.h"

static struct genl_family mutex_proxy_genl_family;

static const struct nla_policy
mutex_proxy_param_policy[MUTEX_PARAM_A_MAX + 1] = {
	[MUTEX_PARAM_A_ENABLE_BATCHING]	= { .type = NLA_U32 },
	[MUTEX_PARAM_A_BATCH_SIZE]	= { .type = NLA_U32 },
	[MUTEX_PARAM_A_CACHE_SIZE]	= { .type = NLA_U32 },
	[MUTEX_PARAM_A_MAX_CONNS]	= { .type = NLA_U32 },
};

static const struct nla_policy mutex_proxy_set_params_policy[MUTEX_A_MAX + 1] = {
	[MUTEX_A_PARAMS] = NLA_POLICY_NESTED(mutex_proxy_param_policy),
};

static const struct nla_policy mutex_proxy_set_config_policy[MUTEX_A_MAX + 1] = {
	[MUTEX_A_GENERATION]	= { .type = NLA_U64 },
	/* Repeated; their content is validated by mutex_proxy_config_build(). */
	[MUTEX_A_POOL]		= { .type = NLA_NESTED },
	[MUTEX_A_RULE]		= { .type = NLA_NESTED },
};

static u64 mutex_proxy_features(const struct mutex_proxy_net *mpn)
{
	u64 features = MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS |
		       MUTEX_FEATURE_PARAMS | MUTEX_FEATURE_CONFIG;

	if (MUTEX_PROXY_HAVE_CGROUP)
		features |= MUTEX_FEATURE_CGROUP;

	if (mpn->hooks_ipv4)
		features |= MUTEX_FEATURE_HOOKS_IPV4;
	if (mpn->hooks_ipv6)
		features |= MUTEX_FEATURE_HOOKS_IPV6;
	return features;
}

static int mutex_proxy_put_params(struct sk_buff *skb,
				  const struct mutex_proxy_params *params)
{
	enum mutex_param_attr id;
	struct nlattr *nest;

	nest = nla_nest_start(skb, MUTEX_A_PARAMS);
	if (!nest)
		return -EMSGSIZE;
	for (id = MUTEX_PARAM_A_UNSPEC + 1; id <= MUTEX_PARAM_A_MAX; id++) {
		if (nla_put_u32(skb, id, params->val[id])) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int mutex_proxy_put_stats(struct sk_buff *skb,
				 const struct mutex_proxy_stats_sum *sum)
{
	enum mutex_stats_attr attr;
	struct nlattr *nest;

	nest = nla_nest_start(skb, MUTEX_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (attr = MUTEX_PROXY_STAT_FIRST; attr <= MUTEX_STATS_A_MAX; attr++) {
		if (nla_put_u64_64bit(skb, attr,
				      sum->cnt[attr - MUTEX_PROXY_STAT_FIRST],
				      MUTEX_STATS_A_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * mutex_proxy_reply_new() - allocate a reply to a request
 * @info: the request
 * @hdr: receives the start of the genetlink header, for genlmsg_end()
 *
 * Return: the message, or NULL (out of memory, reported in the extack).
 */
static struct sk_buff *mutex_proxy_reply_new(struct genl_info *info,
					     void **hdr)
{
	struct sk_buff *msg;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto nomem;
	*hdr = genlmsg_put_reply(msg, info, &mutex_proxy_genl_family, 0,
				 info->genlhdr->cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		goto nomem;
	}
	return msg;

nomem:
	NL_SET_ERR_MSG(info->extack, "out of memory for the reply");
	return NULL;
}

/**
 * mutex_proxy_reply_send() - finish and send a reply, or drop it
 * @msg: the reply
 * @hdr: from mutex_proxy_reply_new()
 * @info: the request
 * @err: 0 if @msg was filled, else the error of filling it
 *
 * Return: 0 or a negative errno.
 */
static int mutex_proxy_reply_send(struct sk_buff *msg, void *hdr,
				  struct genl_info *info, int err)
{
	if (err) {
		nlmsg_free(msg);
		NL_SET_ERR_MSG(info->extack, "reply does not fit in a message");
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int mutex_proxy_nl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct mutex_proxy_params params;
	struct sk_buff *msg;
	void *hdr;
	int err = 0;

	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;

	mutex_proxy_params_get(&params);
	if (nla_put_string(msg, MUTEX_A_VERSION, MUTEX_PROXY_VERSION) ||
	    nla_put_u32(msg, MUTEX_A_API_VERSION, MUTEX_PROXY_API_VERSION) ||
	    nla_put_u64_64bit(msg, MUTEX_A_FEATURES,
			      mutex_proxy_features(mutex_proxy_pernet(net)),
			      MUTEX_A_PAD) ||
	    nla_put_u64_64bit(msg, MUTEX_A_NETNS_COOKIE,
			      mutex_proxy_net_cookie(net), MUTEX_A_PAD) ||
	    mutex_proxy_put_params(msg, &params))
		err = -EMSGSIZE;

	return mutex_proxy_reply_send(msg, hdr, info, err);
}

static int mutex_proxy_nl_get_stats(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(genl_info_net(info));
	struct mutex_proxy_stats_sum sum;
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;

	mutex_proxy_stats_sum(mpn->stats, &sum);
	err = mutex_proxy_put_stats(msg, &sum);

	return mutex_proxy_reply_send(msg, hdr, info, err);
}

static int mutex_proxy_nl_set_params(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct nlattr *tb[MUTEX_PARAM_A_MAX + 1];
	enum mutex_param_attr bad = MUTEX_PARAM_A_UNSPEC;
	struct mutex_proxy_param_update upd = {};
	const char *why = "invalid parameters";
	struct mutex_proxy_params now;
	enum mutex_param_attr id;
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;
	int err;

	nest = info->attrs[MUTEX_A_PARAMS];
	if (!nest) {
		NL_SET_ERR_MSG(info->extack, "MUTEX_A_PARAMS is required");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, MUTEX_A_PARAMS);
		return -EINVAL;
	}

	/* Already validated against the policy by the core; cannot fail. */
	err = nla_parse_nested(tb, MUTEX_PARAM_A_MAX, nest,
			       mutex_proxy_param_policy, info->extack);
	if (err)
		return err;

	for (id = MUTEX_PARAM_A_UNSPEC + 1; id <= MUTEX_PARAM_A_MAX; id++) {
		if (!tb[id])
			continue;
		upd.mask |= BIT(id);
		upd.val[id] = nla_get_u32(tb[id]);
	}
	if (!upd.mask) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest,
				    "MUTEX_A_PARAMS holds no parameter");
		return -EINVAL;
	}

	/* Allocate before changing anything: a change is always answered. */
	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;

	err = mutex_proxy_params_update(&upd, &now, &bad, &why);
	if (err) {
		nlmsg_free(msg);
		mutex_proxy_extack_attr(info->extack,
					bad != MUTEX_PARAM_A_UNSPEC ? tb[bad] :
								      nest,
					why);
		return err;
	}

	err = mutex_proxy_put_params(msg, &now);
	return mutex_proxy_reply_send(msg, hdr, info, err);
}

static int mutex_proxy_nl_set_config(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(genl_info_net(info));
	struct mutex_proxy_config *cfg, *old;
	struct sk_buff *msg;
	u64 had;
	void *hdr;
	int err;

	if (!info->attrs[MUTEX_A_GENERATION]) {
		NL_SET_ERR_MSG(info->extack, "MUTEX_A_GENERATION is required");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, MUTEX_A_GENERATION);
		return -EINVAL;
	}
	had = nla_get_u64(info->attrs[MUTEX_A_GENERATION]);

	/* Allocate before changing anything: a change is always answered. */
	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&mpn->config_lock);
	old = rcu_dereference_protected(mpn->config,
					lockdep_is_held(&mpn->config_lock));
	if (had != mpn->generation) {
		/* Refuse early, without building what would be thrown away. */
		mutex_proxy_extack_stale(info->extack, had, mpn->generation);
		err = -ESTALE;
		goto unlock;
	}
	cfg = mutex_proxy_config_build(genlmsg_data(info->genlhdr),
				       genlmsg_len(info->genlhdr), old,
				       info->extack);
	if (IS_ERR(cfg)) {
		err = PTR_ERR(cfg);
		goto unlock;
	}
	err = mutex_proxy_config_replace(mpn, cfg, had, info->extack);
	if (!err)
		err = nla_put_u64_64bit(msg, MUTEX_A_GENERATION,
					mpn->generation, MUTEX_A_PAD);
	mutex_unlock(&mpn->config_lock);
	if (err == -ESTALE)
		goto free;
	return mutex_proxy_reply_send(msg, hdr, info, err);

unlock:
	mutex_unlock(&mpn->config_lock);
free:
	nlmsg_free(msg);
	return err;
}

static int mutex_proxy_nl_get_config(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(genl_info_net(info));
	const struct mutex_proxy_config *cfg;
	struct sk_buff *msg;
	void *hdr;
	int err;

	/* The lock keeps the snapshot alive while the reply is sized,
	 * allocated (sleeping) and filled; readers of the data path are
	 * not affected.
	 */
	mutex_lock(&mpn->config_lock);
	cfg = rcu_dereference_protected(mpn->config,
					lockdep_is_held(&mpn->config_lock));
	msg = genlmsg_new(mutex_proxy_config_size(cfg), GFP_KERNEL);
	if (!msg) {
		mutex_unlock(&mpn->config_lock);
		NL_SET_ERR_MSG(info->extack, "out of memory for the reply");
		return -ENOMEM;
	}
	hdr = genlmsg_put_reply(msg, info, &mutex_proxy_genl_family, 0,
				info->genlhdr->cmd);
	err = -EMSGSIZE;
	if (hdr && !nla_put_u64_64bit(msg, MUTEX_A_GENERATION, mpn->generation,
				      MUTEX_A_PAD))
		err = mutex_proxy_config_put(msg, cfg);
	mutex_unlock(&mpn->config_lock);
	return mutex_proxy_reply_send(msg, hdr, info, err);
}

static const struct genl_ops mutex_proxy_genl_ops[] = {
	{
		.cmd		= MUTEX_CMD_GET_INFO,
		.doit		= mutex_proxy_nl_get_info,
	},
	{
		.cmd		= MUTEX_CMD_GET_STATS,
		.doit		= mutex_proxy_nl_get_stats,
	},
	{
		.cmd		= MUTEX_CMD_SET_PARAMS,
		.doit		= mutex_proxy_nl_set_params,
		.policy		= mutex_proxy_set_params_policy,
		.maxattr	= MUTEX_A_MAX,
		/* Module-wide: CAP_NET_ADMIN in the initial user namespace. */
		.flags		= GENL_ADMIN_PERM,
	},
	{
		.cmd		= MUTEX_CMD_SET_CONFIG,
		.doit		= mutex_proxy_nl_set_config,
		.policy		= mutex_proxy_set_config_policy,
		.maxattr	= MUTEX_A_MAX,
		/* One namespace: CAP_NET_ADMIN over its user namespace. */
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= MUTEX_CMD_GET_CONFIG,
		.doit		= mutex_proxy_nl_get_config,
	},
};

static struct genl_family mutex_proxy_genl_family __ro_after_init = {
	.name		= MUTEX_PROXY_GENL_NAME,
	.version	= MUTEX_PROXY_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= mutex_proxy_genl_ops,
	.n_ops		= ARRAY_SIZE(mutex_proxy_genl_ops),
	.resv_start_op	= 0,
};

/**
 * mutex_proxy_genl_register() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int __init mutex_proxy_genl_register(void)
{
	return genl_register_family(&mutex_proxy_genl_family);
}

/**
 * mutex_proxy_genl_unregister() - unregister the family
 *
 * Returns once no request of the family is in progress any more.
 */
void mutex_proxy_genl_unregister(void)
{
	genl_unregister_family(&mutex_proxy_genl_family);
}
