// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: steering through the kernel's NAT engine.
 *
 * The module registers NAT lookup functions with nf_nat_ipv4_register_fn()
 * and nf_nat_ipv6_register_fn(), as iptable_nat and nft's nat chains do, at
 * LOCAL_OUT (this host's traffic) and PRE_ROUTING (forwarded traffic). The
 * NAT core calls them only for a conntrack entry whose destination NAT is
 * not set up yet, i.e. once per new connection; whatever the function
 * decides is then applied by the NAT core to every packet of the flow in
 * both directions (replies, ICMP errors, checksums), and conntrack -L
 * shows it. Packets of established flows never reach the function.
 * A steered flow is tagged with the module's conntrack label bits
 * (MUTEX_CT_LABEL_STEERED, MUTEX_CT_LABEL_REDIRECT: the UAPI header's
 * "Conntrack labels") and recorded, pending, in the connection table
 * (table.c) here; the entry is not confirmed yet, so no reference is taken.
 *
 * Priority: NF_IP_PRI_NAT_DST - 1 orders the module's decision just before
 * iptables/nftables nat rules of the same hook: a flow the module steers is
 * not NATed again by them, a flow it leaves alone still is.
 *
 * Conntrack is enabled in each namespace for both families with
 * nf_ct_netns_get() while the module is loaded (as a NAT target does), and
 * conntrack labels with nf_connlabels_get() (as the connlabel match does),
 * so that every new entry has room for the tag.
 */
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_labels.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/nf_nat_redirect.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>
#include <net/sock.h>

#include "counters.h"
#include "classify.h"
#include "config.h"
#include "net.h"
#include "sched.h"
#include "stats.h"
#include "steer.h"
#include "table.h"

#if !IS_ENABLED(CONFIG_NF_CONNTRACK_LABELS)
#error "mutex_proxy tags the entries it steers: needs CONFIG_NF_CONNTRACK_LABELS"
#endif
#if !IS_ENABLED(CONFIG_NF_REJECT_IPV4) || !IS_ENABLED(CONFIG_NF_REJECT_IPV6)
#error "mutex_proxy resets connections it ended: needs CONFIG_NF_REJECT_IPV4/IPV6"
#endif

/* Fill in the owner of the local socket, if the packet has one. */
static void mutex_proxy_key_owner(struct mutex_proxy_key *key,
				  struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	struct sock *sk = skb_to_full_sk(skb);
	const struct file *filp;

	if (state->hook != NF_INET_LOCAL_OUT || !sk || !sk_fullsock(sk) ||
	    !net_eq(sock_net(sk), state->net))
		return;
	key->sk = sk;
	key->has_owner = true;
	key->uid = from_kuid_munged(&init_user_ns, sk->sk_uid);
	key->gid = U32_MAX;
	read_lock_bh(&sk->sk_callback_lock);
	filp = sk->sk_socket ? sk->sk_socket->file : NULL;
	if (filp)
		key->gid = from_kgid_munged(&init_user_ns, filp->f_cred->fsgid);
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Tag a new entry as steered. Its labels extension was added when it was
 * created (labels are enabled in the namespace); an entry without one
 * (created before, or its allocation failed) cannot be tagged.
 */
static bool mutex_proxy_ct_tag(struct nf_conn *ct, u8 action)
{
	struct nf_conn_labels *labels = nf_ct_labels_find(ct);

	if (!labels)
		return false;
	set_bit(MUTEX_CT_LABEL_STEERED, labels->bits);
	if (action == MUTEX_ACTION_REDIRECT)
		set_bit(MUTEX_CT_LABEL_REDIRECT, labels->bits);
	return true;
}

static unsigned int mutex_proxy_nat_apply(struct sk_buff *skb,
					  const struct nf_hook_state *state,
					  struct nf_conn *ct,
					  const struct mutex_proxy_rule *rule,
					  const struct mutex_proxy_backend *be,
					  u8 family)
{
	struct nf_nat_range2 range = {};
	u16 port = be ? be->port : rule->to_port;

	range.flags = NF_NAT_RANGE_PROTO_SPECIFIED;
	range.min_proto.all = htons(port);
	range.max_proto.all = htons(port);
	if (rule->action == MUTEX_ACTION_REDIRECT)
		return family == AF_INET ?
		       nf_nat_redirect_ipv4(skb, &range, state->hook) :
		       nf_nat_redirect_ipv6(skb, &range, state->hook);

	range.flags |= NF_NAT_RANGE_MAP_IPS;
	range.min_addr = be->addr;
	range.max_addr = be->addr;
	return nf_nat_setup_info(ct, &range, NF_NAT_MANIP_DST);
}

/*
 * A TCP segment without SYN that opened a new entry: a connection that
 * was going on before its entry went away. It is left alone (it keeps
 * talking to where it was going), unless a rule sends its destination to a
 * pool in failure mode closed: then it was steered (its entry was ended,
 * END_FLOWS or conntrack -D) or should have been, and sent unNATed it
 * would show the node's address to the destination the pool hides it from.
 * It gets a reset instead (the client learns at once and reconnects, with
 * a SYN that is steered) and is dropped.
 */
static unsigned int mutex_proxy_midstream(struct mutex_proxy_net *mpn,
					  const struct mutex_proxy_config *cfg,
					  const struct mutex_proxy_key *key,
					  struct sk_buff *skb,
					  const struct nf_hook_state *state)
{
	const struct mutex_proxy_rule *rule = mutex_proxy_classify(cfg, key);

	if (!rule || !(rule->match & MUTEX_M_POOL) ||
	    cfg->pools[rule->pool].failure_mode != MUTEX_FAILURE_CLOSED)
		return NF_ACCEPT;
	if (key->family == AF_INET)
		nf_send_reset(state->net, state->sk, skb, state->hook);
	else
		nf_send_reset6(state->net, state->sk, skb, state->hook);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_FLOWS_DROPPED, 1);
	return NF_DROP;
}

/**
 * mutex_proxy_nat_hook() - decide a new connection
 * @priv: unused
 * @skb: its first packet
 * @state: hook state
 *
 * Called by the NAT core under RCU, in softirq or process context, for
 * conntrack entries without destination NAT yet. Never sleeps.
 *
 * Return: NF_ACCEPT (steered, or left alone) or NF_DROP.
 */
static unsigned int mutex_proxy_nat_hook(void *priv, struct sk_buff *skb,
					 const struct nf_hook_state *state)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(state->net);
	const struct nf_conntrack_tuple *t;
	const struct mutex_proxy_config *cfg;
	const struct mutex_proxy_rule *rule;
	struct mutex_proxy_backend *be = NULL;
	struct mutex_proxy_key key = {};
	enum ip_conntrack_info ctinfo;
	struct mutex_proxy_pool *pool;
	struct nf_conn *ct;
	unsigned int ret;
	bool midstream;

	ct = nf_ct_get(skb, &ctinfo);
	/* The NAT core also asks for confirmed entries that have no NAT
	 * binding yet (flows that began before its hooks were registered in
	 * this namespace); nf_nat_setup_info() does nothing for those, so
	 * they are left alone, not counted.
	 */
	if (!ct || ctinfo != IP_CT_NEW || nf_ct_is_confirmed(ct))
		return NF_ACCEPT;
	cfg = rcu_dereference(mpn->config);
	if (!cfg || !cfg->n_rules)
		return NF_ACCEPT;
	t = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	if (t->dst.protonum != IPPROTO_TCP && t->dst.protonum != IPPROTO_UDP)
		return NF_ACCEPT;
	/* TCP only from its SYN: with nf_conntrack_tcp_loose a mid-stream
	 * segment (after conntrack -F or END_FLOWS, an entry's timeout or a
	 * module load) opens a NEW entry in state ESTABLISHED; sending that
	 * to a proxy would only reset a connection that was going elsewhere.
	 */
	midstream = t->dst.protonum == IPPROTO_TCP &&
		    READ_ONCE(ct->proto.tcp.state) != TCP_CONNTRACK_SYN_SENT;

	key.family = t->src.l3num == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
	key.proto = t->dst.protonum;
	key.saddr = t->src.u3;
	key.daddr = t->dst.u3;
	/* TCP and UDP keep their ports at the same place of the tuple. */
	key.sport = ntohs(t->src.u.all);
	key.dport = ntohs(t->dst.u.all);
	key.mark = skb->mark;
	key.oif = state->out ? state->out->ifindex : 0;
	key.iif = state->in ? state->in->ifindex : 0;
	/* The socket's owner costs a lock: only for rules that need it. */
	if (cfg->owner_rules)
		mutex_proxy_key_owner(&key, skb, state);

	if (midstream)
		return mutex_proxy_midstream(mpn, cfg, &key, skb, state);
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_FLOWS_NEW, 1);
	rule = mutex_proxy_classify(cfg, &key);
	if (!rule)
		return NF_ACCEPT;
	mutex_proxy_rule_ctr_match(rule->ctr);

	switch (rule->action) {
	case MUTEX_ACTION_BYPASS:
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_FLOWS_BYPASSED, 1);
		return NF_ACCEPT;
	case MUTEX_ACTION_DROP:
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_FLOWS_DROPPED, 1);
		return NF_DROP;
	}

	if (rule->match & MUTEX_M_POOL) {
		pool = &cfg->pools[rule->pool];
		be = mutex_proxy_sched_pick(pool, &key);
		if (!be) {
			if (pool->failure_mode == MUTEX_FAILURE_OPEN)
				return NF_ACCEPT;
			mutex_proxy_stats_add(mpn->stats,
					      MUTEX_STATS_A_FLOWS_DROPPED, 1);
			return NF_DROP;
		}
	}

	ret = mutex_proxy_nat_apply(skb, state, ct, rule, be, key.family);
	if (ret == NF_ACCEPT) {
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_FLOWS_STEERED, 1);
		if (be)
			atomic64_inc(&be->ctr->total);
		if (mutex_proxy_ct_tag(ct, rule->action))
			mutex_proxy_table_add(mpn, ct, be, rule->action);
		else
			mutex_proxy_stats_add(mpn->stats,
					      MUTEX_STATS_A_ALLOC_FAILS, 1);
	} else {
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_FLOWS_DROPPED, 1);
	}
	return ret;
}

static const struct nf_hook_ops mutex_proxy_nat_ipv4_ops[] = {
	{
		.hook		= mutex_proxy_nat_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP_PRI_NAT_DST - 1,
	},
	{
		.hook		= mutex_proxy_nat_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP_PRI_NAT_DST - 1,
	},
};

static const struct nf_hook_ops mutex_proxy_nat_ipv6_ops[] = {
	{
		.hook		= mutex_proxy_nat_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP6_PRI_NAT_DST - 1,
	},
	{
		.hook		= mutex_proxy_nat_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP6_PRI_NAT_DST - 1,
	},
};

static int mutex_proxy_nat_register_ops(struct net *net,
					const struct nf_hook_ops *ops,
					unsigned int n, bool ipv6)
{
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		err = ipv6 ? nf_nat_ipv6_register_fn(net, &ops[i]) :
			     nf_nat_ipv4_register_fn(net, &ops[i]);
		if (err)
			goto undo;
	}
	return 0;
undo:
	while (i--) {
		if (ipv6)
			nf_nat_ipv6_unregister_fn(net, &ops[i]);
		else
			nf_nat_ipv4_unregister_fn(net, &ops[i]);
	}
	return err;
}

static void mutex_proxy_nat_unregister_ops(struct net *net,
					   const struct nf_hook_ops *ops,
					   unsigned int n, bool ipv6)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (ipv6)
			nf_nat_ipv6_unregister_fn(net, &ops[i]);
		else
			nf_nat_ipv4_unregister_fn(net, &ops[i]);
	}
}

/**
 * mutex_proxy_steer_register() - enable conntrack and its labels and
 *	register the NAT functions in a namespace
 * @net: the namespace
 * @mpn: its state; @mpn->stats must be set
 *
 * IPv6 only when IPv6 is enabled. On failure nothing stays registered, but
 * a function may still be running: wait for a grace period before freeing
 * what it uses. Sleeps.
 *
 * Return: 0 or a negative errno.
 */
int mutex_proxy_steer_register(struct net *net, struct mutex_proxy_net *mpn)
{
	int err;

	err = nf_connlabels_get(net, MUTEX_CT_LABEL_STEERED);
	if (err)
		return err;
	mpn->labels = true;
	err = nf_ct_netns_get(net, NFPROTO_IPV4);
	if (err)
		goto labels;
	err = mutex_proxy_nat_register_ops(net, mutex_proxy_nat_ipv4_ops,
					   ARRAY_SIZE(mutex_proxy_nat_ipv4_ops),
					   false);
	if (err)
		goto put4;
	mpn->steer_ipv4 = true;

	if (!ipv6_mod_enabled())
		return 0;
	err = nf_ct_netns_get(net, NFPROTO_IPV6);
	if (err)
		goto unreg4;
	err = mutex_proxy_nat_register_ops(net, mutex_proxy_nat_ipv6_ops,
					   ARRAY_SIZE(mutex_proxy_nat_ipv6_ops),
					   true);
	if (err)
		goto put6;
	mpn->steer_ipv6 = true;
	return 0;

put6:
	nf_ct_netns_put(net, NFPROTO_IPV6);
unreg4:
	mutex_proxy_nat_unregister_ops(net, mutex_proxy_nat_ipv4_ops,
				       ARRAY_SIZE(mutex_proxy_nat_ipv4_ops),
				       false);
	mpn->steer_ipv4 = false;
put4:
	nf_ct_netns_put(net, NFPROTO_IPV4);
labels:
	nf_connlabels_put(net);
	mpn->labels = false;
	return err;
}

/**
 * mutex_proxy_steer_unregister() - undo mutex_proxy_steer_register()
 * @net: the namespace
 * @mpn: its state
 *
 * Functions already running may finish after this returns. Sleeps.
 */
void mutex_proxy_steer_unregister(struct net *net, struct mutex_proxy_net *mpn)
{
	if (mpn->steer_ipv6) {
		mutex_proxy_nat_unregister_ops(net, mutex_proxy_nat_ipv6_ops,
					       ARRAY_SIZE(mutex_proxy_nat_ipv6_ops),
					       true);
		nf_ct_netns_put(net, NFPROTO_IPV6);
	}
	if (mpn->steer_ipv4) {
		mutex_proxy_nat_unregister_ops(net, mutex_proxy_nat_ipv4_ops,
					       ARRAY_SIZE(mutex_proxy_nat_ipv4_ops),
					       false);
		nf_ct_netns_put(net, NFPROTO_IPV4);
	}
	mpn->steer_ipv6 = false;
	mpn->steer_ipv4 = false;
	if (mpn->labels)
		nf_connlabels_put(net);
	mpn->labels = false;
}
