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
 * policy (GET_INFO, GET_STATS, GET_CONFIG, GET_FLOWS and FLUSH_FLOWS take
 * none). parallel_ops: the handlers need no genl_mutex; parameters have their
 * own mutex, statistics are per-CPU, the connection table is an rhashtable
 * read under RCU.
 *
 * Readers of counters (GET_STATS, GET_CONFIG, GET_FLOWS, GET_ORIGDST) first
 * fold every CPU's pending accounting batch (mutex_proxy_account_flush_all():
 * one lock per CPU, a few additions), so what they report is at most the
 * packets of the current call behind.
 *
 * GET_FLOWS is a dump over a walk of the namespace's table (struct
 * mutex_proxy_table_cursor, table.c, in cb->ctx): .start begins the walk
 * and folds the batches, .dumpit fills one message per call, .done ends the
 * walk (also when the socket is closed halfway). A flow that does not fit
 * opens the next message. Flows come and go during a dump without
 * disturbing it: a flow present from the first message to the last is
 * reported once, one that comes or goes meanwhile may or may not be. The
 * walk counts the events that can make it miss or repeat a flow that
 * stayed (breaks); cb->seq is derived from the count, so the message (or
 * the final NLMSG_DONE) after a break carries NLM_F_DUMP_INTR.
 *
 * GET_ORIGDST finds the conntrack entry whose reply direction is the 5-tuple
 * the proxy sees (its peer and its own address, i.e. after NAT), default
 * zone only, and answers for it if it carries the module's label, with its
 * flow from the table if there is one (a pending one becomes tracked), from
 * the entry alone if not. GET_FLOWS (tracked flows only) and GET_ORIGDST
 * fill a flow with the same helper, mutex_proxy_nl_put_flow() (flow events
 * too).
 *
 * Permissions: GET_INFO, GET_STATS are open; GET_CONFIG and GET_FLOWS
 * (the node's sentries, relays and peers), SET_CONFIG, SET_BACKEND, END_FLOWS,
 * FLUSH_FLOWS and joining a multicast group need
 * CAP_NET_ADMIN over the namespace; SET_PARAMS (module-wide) needs it in
 * the initial user namespace; GET_ORIGDST needs CAP_NET_ADMIN over the
 * namespace or to be the owner of the proxy's socket of that connection.
 *
 * FLUSH_FLOWS empties the namespace's table (CAP_NET_ADMIN over its user
 * namespace); conntrack and the NAT of the connections are not touched.
 *
 * SET_BACKEND and END_FLOWS name one backend of the current configuration
 * (mutex_proxy_nl_backend_change() decodes it) and drive the model under
 * the namespace's config_lock, so neither interleaves with a SET_CONFIG:
 * mutex_proxy_config_set_backend() changes the backend in place (config.c),
 * mutex_proxy_table_end_flows() deletes its connections' conntrack entries
 * (table.c). Changes are announced on the "events" group (events.c) while
 * the lock is still held, so events come in the order of the changes.
 */
#include <linux/bits.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <net/genetlink.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_tuple.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <net/netlink.h>

#include "account.h"
#include "config.h"
#include "events.h"
#include "mutex_proxy.h"
#include "net.h"
#include "netlink.h"
#include "netlink_config.h"
#include "params.h"
#include "policy.h"
#include "stats.h"
#include "steer.h"
#include "table.h"
#include "compat.h"

static u64 mutex_proxy_features(void)
{
	u64 features = MUTEX_FEATURE_NETNS | MUTEX_FEATURE_STATS |
		       MUTEX_FEATURE_PARAMS | MUTEX_FEATURE_CONFIG |
		       MUTEX_FEATURE_FLOWS | MUTEX_FEATURE_BACKEND |
		       MUTEX_FEATURE_EVENTS | MUTEX_FEATURE_RULE_COUNTERS;

	if (MUTEX_PROXY_HAVE_CGROUP)
		features |= MUTEX_FEATURE_CGROUP;

	features |= MUTEX_FEATURE_HOOKS_IPV4;
	if (ipv6_mod_enabled())
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
 * mutex_proxy_put_addr() - put an address of a conntrack tuple
 * @skb: the message
 * @attr: the attribute (MUTEX_FLOW_A_*_ADDR)
 * @family: AF_INET or AF_INET6
 * @addr: the address, network byte order
 *
 * Return: 0 or -EMSGSIZE.
 */
static int mutex_proxy_put_addr(struct sk_buff *skb, int attr, u8 family,
				const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return nla_put_in_addr(skb, attr, addr->ip);
	return nla_put_in6_addr(skb, attr, &addr->in6);
}

/**
 * mutex_proxy_nl_put_flow() - put one flow as a nest of MUTEX_FLOW_A_*
 * @skb: the message
 * @attrtype: the nest's type (MUTEX_A_FLOW, MUTEX_EVENT_A_FLOW)
 * @ct: the flow's conntrack entry, kept alive by the caller
 * @flow: the tracked flow of @ct, or NULL for a steered entry the table
 *	does not track (then counters, age and idle are 0); the caller holds
 *	rcu_read_lock() (or otherwise keeps it alive)
 *
 * Addresses and ports come from the conntrack entry: the client is the
 * source of the original direction, the original destination is the
 * destination of the original direction, and where the flow was steered is
 * the source of the reply direction (after NAT). Nothing carries a kernel
 * address.
 *
 * Return: 0, -EMSGSIZE (the nest was cancelled) or -EAFNOSUPPORT (never for
 * a flow the module steered).
 */
int mutex_proxy_nl_put_flow(struct sk_buff *skb, int attrtype,
			    const struct nf_conn *ct,
			    const struct mutex_proxy_flow *flow)
{
	static const struct mutex_proxy_flow none = {};
	const struct nf_conntrack_tuple *orig =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	const struct nf_conntrack_tuple *reply =
		&ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	const struct nf_conn_labels *labels = nf_ct_labels_find(ct);
	unsigned long now = jiffies;
	unsigned long last;
	struct nlattr *nest;
	u8 family, action;

	if (flow) {
		action = flow->action;
	} else {
		flow = &none;
		action = labels && test_bit(MUTEX_CT_LABEL_REDIRECT,
					    labels->bits) ?
			 MUTEX_ACTION_REDIRECT : MUTEX_ACTION_DNAT;
		now = 0;
	}
	last = READ_ONCE(flow->last);
	switch (orig->src.l3num) {
	case NFPROTO_IPV4:
		family = AF_INET;
		break;
	case NFPROTO_IPV6:
		family = AF_INET6;
		break;
	default:
		return -EAFNOSUPPORT;
	}
	/* Another CPU may account a packet after @now was read. */
	if (time_after(last, now))
		last = now;

	nest = nla_nest_start(skb, attrtype);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, MUTEX_FLOW_A_FAMILY, family) ||
	    nla_put_u8(skb, MUTEX_FLOW_A_PROTO, orig->dst.protonum) ||
	    mutex_proxy_put_addr(skb, MUTEX_FLOW_A_SRC_ADDR, family,
				 &orig->src.u3) ||
	    nla_put_u16(skb, MUTEX_FLOW_A_SRC_PORT, ntohs(orig->src.u.all)) ||
	    mutex_proxy_put_addr(skb, MUTEX_FLOW_A_DST_ADDR, family,
				 &reply->src.u3) ||
	    nla_put_u16(skb, MUTEX_FLOW_A_DST_PORT, ntohs(reply->src.u.all)) ||
	    mutex_proxy_put_addr(skb, MUTEX_FLOW_A_ORIG_DST_ADDR, family,
				 &orig->dst.u3) ||
	    nla_put_u16(skb, MUTEX_FLOW_A_ORIG_DST_PORT,
			ntohs(orig->dst.u.all)) ||
	    nla_put_u8(skb, MUTEX_FLOW_A_ACTION, action) ||
	    nla_put_u64_64bit(skb, MUTEX_FLOW_A_PKTS_ORIG,
			      atomic64_read(&flow->pkts[IP_CT_DIR_ORIGINAL]),
			      MUTEX_FLOW_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_FLOW_A_BYTES_ORIG,
			      atomic64_read(&flow->bytes[IP_CT_DIR_ORIGINAL]),
			      MUTEX_FLOW_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_FLOW_A_PKTS_REPLY,
			      atomic64_read(&flow->pkts[IP_CT_DIR_REPLY]),
			      MUTEX_FLOW_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_FLOW_A_BYTES_REPLY,
			      atomic64_read(&flow->bytes[IP_CT_DIR_REPLY]),
			      MUTEX_FLOW_A_PAD) ||
	    /* u64 milliseconds: flows outlive the 49 days of a u32. */
	    nla_put_u64_64bit(skb, MUTEX_FLOW_A_AGE_MS,
			      jiffies64_to_msecs(now - flow->start),
			      MUTEX_FLOW_A_PAD) ||
	    nla_put_u64_64bit(skb, MUTEX_FLOW_A_IDLE_MS,
			      jiffies64_to_msecs(now - last),
			      MUTEX_FLOW_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * mutex_proxy_missing() - refuse a request without a required attribute
 * @info: the request
 * @attr: the top-level attribute it needs
 * @why: the extack message naming it
 *
 * Return: true (extack set: @why, and the missing type) if @attr is absent.
 */
static bool mutex_proxy_missing(struct genl_info *info, int attr,
				const char *why)
{
	if (!GENL_REQ_ATTR_CHECK(info, attr))
		return false;
	mutex_proxy_extack_attr(info->extack, NULL, why);
	return true;
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
			      mutex_proxy_features(),
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

	mutex_proxy_account_flush_all();
	mutex_proxy_stats_sum(mpn->stats, &sum);
	err = mutex_proxy_put_stats(msg, &sum);
	if (!err && nla_put_u64_64bit(msg, MUTEX_A_FLOW_COUNT,
				      mutex_proxy_table_count(mpn),
				      MUTEX_A_PAD))
		err = -EMSGSIZE;

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

	if (mutex_proxy_missing(info, MUTEX_A_PARAMS, "MUTEX_A_PARAMS is required"))
		return -EINVAL;
	nest = info->attrs[MUTEX_A_PARAMS];

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

	if (mutex_proxy_missing(info, MUTEX_A_GENERATION,
				"MUTEX_A_GENERATION is required"))
		return -EINVAL;
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
	cfg = mutex_proxy_nl_config_parse(genlmsg_data(info->genlhdr),
					  genlmsg_len(info->genlhdr), old,
					  info->extack);
	if (IS_ERR(cfg)) {
		err = PTR_ERR(cfg);
		goto unlock;
	}
	err = mutex_proxy_net_set_config(mpn, cfg, had, info->extack);
	if (!err) {
		mutex_proxy_event_config(mpn->net, mpn->generation);
		err = nla_put_u64_64bit(msg, MUTEX_A_GENERATION,
					mpn->generation, MUTEX_A_PAD);
	}
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

	/* Backend packet and byte counters include every folded batch. */
	mutex_proxy_account_flush_all();

	/* The lock keeps the snapshot alive while the reply is sized,
	 * allocated (sleeping) and filled; readers of the data path are
	 * not affected.
	 */
	mutex_lock(&mpn->config_lock);
	cfg = rcu_dereference_protected(mpn->config,
					lockdep_is_held(&mpn->config_lock));
	msg = genlmsg_new(mutex_proxy_nl_config_size(cfg), GFP_KERNEL);
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
		err = mutex_proxy_nl_config_put(msg, cfg);
	mutex_unlock(&mpn->config_lock);
	return mutex_proxy_reply_send(msg, hdr, info, err);
}

/* cb->args of a GET_CONFIG dump */
enum {
	MUTEX_PROXY_CFG_DUMP_POS,	/* next pool or rule to put */
	MUTEX_PROXY_CFG_DUMP_STARTED,	/* batches folded */
	MUTEX_PROXY_CFG_DUMP_END,	/* every item put */
};

/*
 * GET_CONFIG as a dump (NLM_F_DUMP), for configurations of any size: every
 * message carries MUTEX_A_GENERATION and then as many whole pools and rules
 * as fit, pools first, in order. cb->seq is the generation: a message built
 * after a replacement carries NLM_F_DUMP_INTR (and the parts do not belong
 * together; dump again).
 */
/*
 * A dump's first buffer is small (NLMSG_GOODSIZE) on a socket that never
 * read a large message: make every buffer of this dump hold the largest
 * pool or rule, which are never split across messages.
 */
static int mutex_proxy_nl_get_config_start(struct netlink_callback *cb)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(sock_net(cb->skb->sk));
	const struct mutex_proxy_config *cfg;
	size_t size;

	mutex_lock(&mpn->config_lock);
	cfg = rcu_dereference_protected(mpn->config,
					lockdep_is_held(&mpn->config_lock));
	size = mutex_proxy_nl_config_item_size_max(cfg);
	mutex_unlock(&mpn->config_lock);
	cb->min_dump_alloc = NLMSG_HDRLEN + GENL_HDRLEN + size;
	return 0;
}

static int mutex_proxy_nl_get_config_dumpit(struct sk_buff *skb,
					    struct netlink_callback *cb)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(sock_net(skb->sk));
	const struct mutex_proxy_config *cfg;
	u32 pos = cb->args[MUTEX_PROXY_CFG_DUMP_POS];
	void *hdr;
	int err;

	if (cb->args[MUTEX_PROXY_CFG_DUMP_END])
		return 0;
	if (!cb->args[MUTEX_PROXY_CFG_DUMP_STARTED]) {
		mutex_proxy_account_flush_all();
		cb->args[MUTEX_PROXY_CFG_DUMP_STARTED] = 1;
	}

	mutex_lock(&mpn->config_lock);
	cfg = rcu_dereference_protected(mpn->config,
					lockdep_is_held(&mpn->config_lock));
	/* Never 0: 0 means "no previous message" to the consistency check. */
	cb->seq = (unsigned int)mpn->generation + 1;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &mutex_proxy_genl_family, NLM_F_MULTI,
			  MUTEX_CMD_GET_CONFIG);
	if (!hdr) {
		err = -EMSGSIZE;
		goto unlock;
	}
	nl_dump_check_consistent(cb, genlmsg_nlhdr(hdr));
	if (nla_put_u64_64bit(skb, MUTEX_A_GENERATION, mpn->generation,
			      MUTEX_A_PAD)) {
		genlmsg_cancel(skb, hdr);
		err = -EMSGSIZE;
		goto unlock;
	}
	err = mutex_proxy_nl_config_put_from(skb, cfg, &pos);
	if (err && pos == cb->args[MUTEX_PROXY_CFG_DUMP_POS]) {
		/* Not even one item fits in an empty message. */
		genlmsg_cancel(skb, hdr);
		goto unlock;
	}
	genlmsg_end(skb, hdr);
	cb->args[MUTEX_PROXY_CFG_DUMP_POS] = pos;
	if (!err)
		cb->args[MUTEX_PROXY_CFG_DUMP_END] = 1;
	err = skb->len;
unlock:
	mutex_unlock(&mpn->config_lock);
	return err;
}

static struct mutex_proxy_table_cursor *
mutex_proxy_flows_dump_cur(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct mutex_proxy_table_cursor) > sizeof(cb->ctx));
	return (struct mutex_proxy_table_cursor *)cb->ctx;
}

/*
 * The dump's consistency number: never 0 (nl_dump_check_consistent() takes
 * a previous value of 0 for "none yet"), different after every break of
 * the table's walk.
 */
static void mutex_proxy_flows_dump_seq(struct netlink_callback *cb,
				       const struct mutex_proxy_table_cursor *cur)
{
	cb->seq = (cur->breaks << 1) | 1;
}

static int mutex_proxy_nl_get_flows_start(struct netlink_callback *cb)
{
	struct mutex_proxy_table_cursor *cur = mutex_proxy_flows_dump_cur(cb);
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(sock_net(cb->skb->sk));

	if (mutex_proxy_table_cursor_start(mpn, cur)) {
		NL_SET_ERR_MSG(cb->extack, "out of memory for the dump");
		return -ENOMEM;
	}
	mutex_proxy_account_flush_all();
	mutex_proxy_flows_dump_seq(cb, cur);
	cb->prev_seq = cb->seq;
	return 0;
}

/* One message of a GET_FLOWS dump, opened at its first flow. */
struct mutex_proxy_flows_msg {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	void *hdr;
};

static int mutex_proxy_flows_dump_one(void *arg, struct mutex_proxy_flow *flow)
{
	struct mutex_proxy_flows_msg *m = arg;
	int err;

	if (!m->hdr) {
		m->hdr = genlmsg_put(m->skb, NETLINK_CB(m->cb->skb).portid,
				     m->cb->nlh->nlmsg_seq,
				     &mutex_proxy_genl_family, NLM_F_MULTI,
				     MUTEX_CMD_GET_FLOWS);
		if (!m->hdr)
			return -EMSGSIZE;
		mutex_proxy_flows_dump_seq(m->cb,
					   mutex_proxy_flows_dump_cur(m->cb));
		genl_dump_check_consistent(m->cb, m->hdr);
	}
	/* Full: the flow opens the next message. Any other error skips it. */
	err = mutex_proxy_nl_put_flow(m->skb, MUTEX_A_FLOW, flow->ct, flow);
	if (err == -EMSGSIZE)
		return err;
	return !err;
}

static int mutex_proxy_nl_get_flows_dumpit(struct sk_buff *skb,
					   struct netlink_callback *cb)
{
	struct mutex_proxy_table_cursor *cur = mutex_proxy_flows_dump_cur(cb);
	struct mutex_proxy_flows_msg m = { .skb = skb, .cb = cb };
	int put;

	if (cur->done)
		return 0;	/* NLMSG_DONE, checked against cb->seq too */
	put = mutex_proxy_table_cursor_next(cur, mutex_proxy_flows_dump_one,
					    &m);
	mutex_proxy_flows_dump_seq(cb, cur);
	if (put <= 0) {
		/* Not even one flow fits in an empty message: give up
		 * rather than send empty messages forever.
		 */
		if (m.hdr)
			genlmsg_cancel(skb, m.hdr);
		if (cur->done)
			return 0;
		return put ?: -EMSGSIZE;
	}
	genlmsg_end(skb, m.hdr);
	return skb->len;
}

static int mutex_proxy_nl_get_flows_done(struct netlink_callback *cb)
{
	mutex_proxy_table_cursor_end(mutex_proxy_flows_dump_cur(cb));
	return 0;
}

static const char * const mutex_proxy_tuple_missing[MUTEX_FLOW_A_MAX + 1] = {
	[MUTEX_FLOW_A_FAMILY]	= "MUTEX_FLOW_A_FAMILY is required",
	[MUTEX_FLOW_A_PROTO]	= "MUTEX_FLOW_A_PROTO is required",
	[MUTEX_FLOW_A_SRC_ADDR]	= "MUTEX_FLOW_A_SRC_ADDR is required",
	[MUTEX_FLOW_A_SRC_PORT]	= "MUTEX_FLOW_A_SRC_PORT is required",
	[MUTEX_FLOW_A_DST_ADDR]	= "MUTEX_FLOW_A_DST_ADDR is required",
	[MUTEX_FLOW_A_DST_PORT]	= "MUTEX_FLOW_A_DST_PORT is required",
};

/**
 * mutex_proxy_parse_tuple() - the conntrack reply tuple of a GET_ORIGDST
 * @nest: MUTEX_A_FLOW, already validated against mutex_proxy_tuple_policy
 * @tuple: receives the reply-direction tuple: source the proxy's own
 *	address and port (DST_*), destination its peer (SRC_*)
 * @extack: for the refusal
 *
 * Return: 0 or -EINVAL with an extack message naming the attribute.
 */
static int mutex_proxy_parse_tuple(const struct nlattr *nest,
				   struct nf_conntrack_tuple *tuple,
				   struct netlink_ext_ack *extack)
{
	struct nlattr *tb[MUTEX_FLOW_A_MAX + 1];
	unsigned int id, alen;
	u8 family, proto;
	int err;

	err = nla_parse_nested(tb, MUTEX_FLOW_A_MAX, nest,
			       mutex_proxy_tuple_policy, extack);
	if (err)
		return err;
	for (id = 0; id <= MUTEX_FLOW_A_MAX; id++) {
		if (mutex_proxy_tuple_missing[id] &&
		    NL_REQ_ATTR_CHECK(extack, nest, tb, id)) {
			mutex_proxy_extack_attr(extack, NULL,
						mutex_proxy_tuple_missing[id]);
			return -EINVAL;
		}
	}

	family = nla_get_u8(tb[MUTEX_FLOW_A_FAMILY]);
	if (family == AF_INET) {
		alen = sizeof(struct in_addr);
	} else if (family == AF_INET6) {
		alen = sizeof(struct in6_addr);
	} else {
		NL_SET_ERR_MSG_ATTR(extack, tb[MUTEX_FLOW_A_FAMILY],
				    "MUTEX_FLOW_A_FAMILY must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	proto = nla_get_u8(tb[MUTEX_FLOW_A_PROTO]);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[MUTEX_FLOW_A_PROTO],
				    "MUTEX_FLOW_A_PROTO must be IPPROTO_TCP or IPPROTO_UDP");
		return -EINVAL;
	}
	if (nla_len(tb[MUTEX_FLOW_A_SRC_ADDR]) != alen) {
		NL_SET_ERR_MSG_ATTR(extack, tb[MUTEX_FLOW_A_SRC_ADDR],
				    "MUTEX_FLOW_A_SRC_ADDR must be 4 bytes for AF_INET, 16 for AF_INET6");
		return -EINVAL;
	}
	if (nla_len(tb[MUTEX_FLOW_A_DST_ADDR]) != alen) {
		NL_SET_ERR_MSG_ATTR(extack, tb[MUTEX_FLOW_A_DST_ADDR],
				    "MUTEX_FLOW_A_DST_ADDR must be 4 bytes for AF_INET, 16 for AF_INET6");
		return -EINVAL;
	}
	if (!nla_get_u16(tb[MUTEX_FLOW_A_SRC_PORT])) {
		NL_SET_ERR_MSG_ATTR(extack, tb[MUTEX_FLOW_A_SRC_PORT],
				    "MUTEX_FLOW_A_SRC_PORT must not be 0");
		return -EINVAL;
	}
	if (!nla_get_u16(tb[MUTEX_FLOW_A_DST_PORT])) {
		NL_SET_ERR_MSG_ATTR(extack, tb[MUTEX_FLOW_A_DST_PORT],
				    "MUTEX_FLOW_A_DST_PORT must not be 0");
		return -EINVAL;
	}

	memset(tuple, 0, sizeof(*tuple));
	tuple->src.l3num = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	nla_memcpy(&tuple->src.u3, tb[MUTEX_FLOW_A_DST_ADDR], alen);
	tuple->src.u.all = htons(nla_get_u16(tb[MUTEX_FLOW_A_DST_PORT]));
	nla_memcpy(&tuple->dst.u3, tb[MUTEX_FLOW_A_SRC_ADDR], alen);
	tuple->dst.u.all = htons(nla_get_u16(tb[MUTEX_FLOW_A_SRC_PORT]));
	tuple->dst.protonum = proto;
	tuple->dst.dir = IP_CT_DIR_REPLY;
	return 0;
}

/*
 * The local socket a proxy holds for the reply tuple @t (source: the
 * proxy's own address and port, destination: its peer), i.e. the socket a
 * packet from the peer to the proxy would reach: for TCP the accepted
 * connection (or, before accept, its listener), for UDP the bound socket.
 * Does its owner have @uid?
 */
static bool mutex_proxy_tuple_owned_by(struct net *net,
				       const struct nf_conntrack_tuple *t,
				       kuid_t uid)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	__be16 lport = t->src.u.all, pport = t->dst.u.all;
	struct sock *sk = NULL, *full;
	bool ret = false;

	rcu_read_lock();
	if (t->dst.protonum == IPPROTO_UDP) {
		if (t->src.l3num == NFPROTO_IPV4)
			sk = __udp4_lib_lookup(net, t->dst.u3.ip, pport,
					       t->src.u3.ip, lport, 0, 0,
					       mutex_proxy_udp_table(net),
					       NULL);
#if IS_ENABLED(CONFIG_IPV6)
		else
			sk = __udp6_lib_lookup(net, &t->dst.u3.in6, pport,
					       &t->src.u3.in6, lport, 0, 0,
					       mutex_proxy_udp_table(net),
					       NULL);
#endif
		ret = sk && uid_eq(sk->sk_uid, uid);
		rcu_read_unlock();
		return ret;
	}
	rcu_read_unlock();

	if (t->src.l3num == NFPROTO_IPV4)
		sk = inet_lookup(net, hinfo, NULL, 0, t->dst.u3.ip, pport,
				 t->src.u3.ip, lport, 0);
#if IS_ENABLED(CONFIG_IPV6)
	else
		sk = inet6_lookup(net, hinfo, NULL, 0, &t->dst.u3.in6, pport,
				  &t->src.u3.in6, lport, 0);
#endif
	if (!sk)
		return false;
	full = sk_to_full_sk(sk);	/* a request socket: its listener */
	ret = full && sk_fullsock(full) && uid_eq(full->sk_uid, uid);
	sock_gen_put(sk);
	return ret;
}

static int mutex_proxy_nl_get_origdst(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);
	struct nf_conntrack_tuple_hash *h;
	struct nf_conntrack_tuple tuple;
	struct mutex_proxy_flow *flow;
	struct nlattr *nest;
	struct sk_buff *msg;
	struct nf_conn *ct;
	void *hdr;
	int err;

	if (mutex_proxy_missing(info, MUTEX_A_FLOW, "MUTEX_A_FLOW is required"))
		return -EINVAL;
	nest = info->attrs[MUTEX_A_FLOW];
	err = mutex_proxy_parse_tuple(nest, &tuple, info->extack);
	if (err)
		return err;
	/* As SO_ORIGINAL_DST: the proxy answers for its own connections.
	 * Decided before the lookup, so that the answer says nothing of
	 * other users' flows.
	 */
	if (!netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN) &&
	    !mutex_proxy_tuple_owned_by(net, &tuple,
					NETLINK_CB(skb).creds.uid)) {
		NL_SET_ERR_MSG(info->extack,
			       "needs CAP_NET_ADMIN, or to own the proxy's socket of this connection");
		return -EPERM;
	}

	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;

	h = nf_conntrack_find_get(net, &nf_ct_zone_dflt, &tuple);
	if (!h)
		goto unknown;
	ct = nf_ct_tuplehash_to_ctrack(h);
	if (NF_CT_DIRECTION(h) != IP_CT_DIR_REPLY) {
		/* The 5-tuple is a connection's original direction. */
		nf_ct_put(ct);
		goto unknown;
	}

	if (!mutex_proxy_ct_steered(ct)) {
		nf_ct_put(ct);
		goto unknown;
	}

	mutex_proxy_account_flush_all();
	rcu_read_lock();
	flow = mutex_proxy_table_lookup(mpn, ct);
	if (flow && mutex_proxy_flow_dead(flow))
		flow = NULL;
	/* Found in conntrack's hash: confirmed, and referenced here. */
	if (flow)
		mutex_proxy_table_track(flow, ct);
	err = mutex_proxy_nl_put_flow(msg, MUTEX_A_FLOW, ct, flow);
	rcu_read_unlock();
	nf_ct_put(ct);
	return mutex_proxy_reply_send(msg, hdr, info, err);

unknown:
	nlmsg_free(msg);
	NL_SET_ERR_MSG(info->extack, "no steered flow with this 5-tuple");
	return -ENOENT;
}

static int mutex_proxy_nl_flush_flows(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;
	int err;
	u64 n;

	/* Allocate before changing anything: a change is always answered. */
	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;

	n = mutex_proxy_table_flush(mpn);
	err = nla_put_u64_64bit(msg, MUTEX_A_FLOW_COUNT, n, MUTEX_A_PAD);
	return mutex_proxy_reply_send(msg, hdr, info, err);
}

static int mutex_proxy_nl_set_backend(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(genl_info_net(info));
	struct mutex_proxy_backend_change chg = {};
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_backend *be;
	struct mutex_proxy_pool *pool;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (mutex_proxy_missing(info, MUTEX_A_POOL,
				"MUTEX_A_POOL (the pool's name and one backend) is required"))
		return -EINVAL;
	err = mutex_proxy_nl_backend_change(&chg, info->attrs[MUTEX_A_POOL],
					    true, info->extack);
	if (err)
		return err;
	if (info->attrs[MUTEX_A_GENERATION]) {
		chg.has_generation = true;
		chg.generation = nla_get_u64(info->attrs[MUTEX_A_GENERATION]);
	}

	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&mpn->config_lock);
	err = mutex_proxy_config_set_backend(mpn, &chg, info->extack);
	if (err > 0) {
		cfg = rcu_dereference_protected(mpn->config,
						lockdep_is_held(&mpn->config_lock));
		be = mutex_proxy_config_find_backend(cfg, chg.pool, &chg.id,
						     &pool, NULL);
		mutex_proxy_event_backend(mpn->net, mpn->generation, pool->name,
					  be);
	}
	if (err >= 0)
		err = nla_put_u64_64bit(msg, MUTEX_A_GENERATION,
					mpn->generation, MUTEX_A_PAD);
	mutex_unlock(&mpn->config_lock);
	if (err < 0 && err != -EMSGSIZE) {
		nlmsg_free(msg);
		return err;
	}
	return mutex_proxy_reply_send(msg, hdr, info, err);
}

static int mutex_proxy_nl_end_flows(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(genl_info_net(info));
	struct mutex_proxy_backend_change chg = {};
	struct nlattr *tb[MUTEX_FLOW_A_MAX + 1];
	struct mutex_proxy_config *cfg;
	struct mutex_proxy_backend *be;
	struct mutex_proxy_pool *pool;
	struct sk_buff *msg;
	u8 proto = 0;
	void *hdr;
	int err;
	u64 n;

	if (mutex_proxy_missing(info, MUTEX_A_POOL,
				"MUTEX_A_POOL (the pool's name and one backend) is required"))
		return -EINVAL;
	err = mutex_proxy_nl_backend_change(&chg, info->attrs[MUTEX_A_POOL],
					    false, info->extack);
	if (err)
		return err;
	if (info->attrs[MUTEX_A_FLOW]) {
		/* Already validated against the policy by the core. */
		err = nla_parse_nested(tb, MUTEX_FLOW_A_MAX,
				       info->attrs[MUTEX_A_FLOW],
				       mutex_proxy_end_flows_policy[MUTEX_A_FLOW].nested_policy,
				       info->extack);
		if (err)
			return err;
		if (tb[MUTEX_FLOW_A_PROTO]) {
			proto = nla_get_u8(tb[MUTEX_FLOW_A_PROTO]);
			if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
				NL_SET_ERR_MSG_ATTR(info->extack,
						    tb[MUTEX_FLOW_A_PROTO],
						    "protocol must be IPPROTO_TCP or IPPROTO_UDP");
				return -EINVAL;
			}
		}
	}

	msg = mutex_proxy_reply_new(info, &hdr);
	if (!msg)
		return -ENOMEM;
	/* The lock keeps the pool and backend alive during the walk. */
	mutex_lock(&mpn->config_lock);
	cfg = rcu_dereference_protected(mpn->config,
					lockdep_is_held(&mpn->config_lock));
	be = mutex_proxy_config_find_backend(cfg, chg.pool, &chg.id, &pool,
					     info->extack);
	if (!be) {
		mutex_unlock(&mpn->config_lock);
		nlmsg_free(msg);
		return -ENOENT;
	}
	n = mutex_proxy_table_end_flows(mpn, pool, be, proto);
	mutex_unlock(&mpn->config_lock);
	err = nla_put_u64_64bit(msg, MUTEX_A_FLOW_COUNT, n, MUTEX_A_PAD);
	return mutex_proxy_reply_send(msg, hdr, info, err);
}

static int mutex_proxy_nl_event(struct sk_buff *skb, struct genl_info *info)
{
	NL_SET_ERR_MSG(info->extack,
		       "MUTEX_CMD_EVENT is what the multicast groups carry, not a request");
	return -EOPNOTSUPP;
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
		.start		= mutex_proxy_nl_get_config_start,
		.dumpit		= mutex_proxy_nl_get_config_dumpit,
		/* It names the node's sentries and relays: CAP_NET_ADMIN
		 * over the namespace, as conntrack's table.
		 */
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= MUTEX_CMD_GET_FLOWS,
		.start		= mutex_proxy_nl_get_flows_start,
		.dumpit		= mutex_proxy_nl_get_flows_dumpit,
		.done		= mutex_proxy_nl_get_flows_done,
		/* Its peers: likewise. */
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= MUTEX_CMD_GET_ORIGDST,
		.doit		= mutex_proxy_nl_get_origdst,
		.policy		= mutex_proxy_get_origdst_policy,
		.maxattr	= MUTEX_A_MAX,
	},
	{
		.cmd		= MUTEX_CMD_FLUSH_FLOWS,
		.doit		= mutex_proxy_nl_flush_flows,
		/* One namespace: CAP_NET_ADMIN over its user namespace. */
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= MUTEX_CMD_SET_BACKEND,
		.doit		= mutex_proxy_nl_set_backend,
		.policy		= mutex_proxy_set_backend_policy,
		.maxattr	= MUTEX_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= MUTEX_CMD_END_FLOWS,
		.doit		= mutex_proxy_nl_end_flows,
		.policy		= mutex_proxy_end_flows_policy,
		.maxattr	= MUTEX_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= MUTEX_CMD_EVENT,
		.doit		= mutex_proxy_nl_event,
	},
};

/* enum mutex_proxy_mcgrp: the events name backends, as GET_CONFIG does. */
static const struct genl_multicast_group mutex_proxy_genl_mcgrps[] = {
	[MUTEX_PROXY_GRP_EVENTS] = {
		.name	= MUTEX_PROXY_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
	[MUTEX_PROXY_GRP_FLOWS] = {
		.name	= MUTEX_PROXY_MCGRP_FLOWS,
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
	},
};

struct genl_family mutex_proxy_genl_family __ro_after_init = {
	.name		= MUTEX_PROXY_GENL_NAME,
	.version	= MUTEX_PROXY_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= mutex_proxy_genl_ops,
	.n_ops		= ARRAY_SIZE(mutex_proxy_genl_ops),
	.mcgrps		= mutex_proxy_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(mutex_proxy_genl_mcgrps),
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
