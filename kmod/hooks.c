// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: netfilter hooks.
 *
 * Registered in every network namespace for IPv4 and (when IPv6 is enabled)
 * IPv6, at LOCAL_OUT (traffic of this host) and PRE_ROUTING (traffic of
 * containers and VMs routed through it). They only count packets (just
 * after conntrack); the steering decisions are taken by the NAT functions
 * of steer.c, once per new connection.
 *
 * The accounting hooks count the packets of steered flows (account.c), each
 * packet once: at POST_ROUTING (everything the node sends or forwards,
 * including to itself over loopback) and at LOCAL_IN for packets from
 * another host (not from a loopback device: those were counted at
 * POST_ROUTING). They run last, after NAT, just before conntrack confirms a
 * new entry. A packet whose conntrack entry does not carry the module's
 * label (MUTEX_CT_LABEL_STEERED, set by steer.c) is not of a steered flow
 * (it may be another's DNAT: Docker, kube-proxy) and leaves after that one
 * test.
 */
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>

#include "account.h"
#include "hooks.h"
#include "net.h"
#include "params.h"
#include "stats.h"
#include "steer.h"

/**
 * mutex_proxy_hook() - netfilter hook: count the packet, let it pass
 * @priv: unused
 * @skb: the packet
 * @state: hook state, gives the namespace
 *
 * Runs in softirq or process context under RCU; never sleeps.
 *
 * Return: NF_ACCEPT.
 */
static unsigned int mutex_proxy_hook(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(state->net);

	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_PKTS_SEEN, 1);
	return NF_ACCEPT;
}

/**
 * mutex_proxy_account_hook() - netfilter hook: account a packet of a
 *	steered flow
 * @priv: unused
 * @skb: the packet
 * @state: hook state
 *
 * Runs in softirq or process context under RCU; never sleeps.
 *
 * Return: NF_ACCEPT.
 */
static unsigned int mutex_proxy_account_hook(void *priv, struct sk_buff *skb,
					     const struct nf_hook_state *state)
{
	enum ip_conntrack_info ctinfo;
	struct mutex_proxy_net *mpn;
	struct nf_conn *ct;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || !mutex_proxy_ct_steered(ct))
		return NF_ACCEPT;
	if (state->hook == NF_INET_LOCAL_IN &&
	    (!state->in || (state->in->flags & IFF_LOOPBACK)))
		return NF_ACCEPT;
	if (!mutex_proxy_param_get(MUTEX_PARAM_A_ENABLE_ACCOUNTING))
		return NF_ACCEPT;
	mpn = mutex_proxy_pernet(state->net);
	mutex_proxy_account_packet(mpn, ct, CTINFO2DIR(ctinfo), skb->len);
	return NF_ACCEPT;
}

static const struct nf_hook_ops mutex_proxy_ipv4_ops[] = {
	{
		.hook		= mutex_proxy_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP_PRI_CONNTRACK + 1,
	},
	{
		.hook		= mutex_proxy_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP_PRI_CONNTRACK + 1,
	},
	{
		.hook		= mutex_proxy_account_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_POST_ROUTING,
		.priority	= NF_IP_PRI_LAST - 1,
	},
	{
		.hook		= mutex_proxy_account_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP_PRI_LAST - 1,
	},
};

static const struct nf_hook_ops mutex_proxy_ipv6_ops[] = {
	{
		.hook		= mutex_proxy_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP6_PRI_CONNTRACK + 1,
	},
	{
		.hook		= mutex_proxy_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP6_PRI_CONNTRACK + 1,
	},
	{
		.hook		= mutex_proxy_account_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_POST_ROUTING,
		.priority	= NF_IP6_PRI_LAST - 1,
	},
	{
		.hook		= mutex_proxy_account_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP6_PRI_LAST - 1,
	},
};

/**
 * mutex_proxy_hooks_register() - register the hooks in a namespace
 * @net: the namespace
 * @mpn: its state; @mpn->stats must be set, the hooks use it at once
 *
 * The IPv6 hooks are registered only when IPv6 is enabled
 * (ipv6_mod_enabled()). On failure nothing stays registered, but a hook
 * may still be running on another CPU: the caller must wait for an RCU
 * grace period before freeing @mpn->stats. Sleeps.
 *
 * Return: 0 or a negative errno.
 */
int mutex_proxy_hooks_register(struct net *net, struct mutex_proxy_net *mpn)
{
	int err;

	err = nf_register_net_hooks(net, mutex_proxy_ipv4_ops,
				    ARRAY_SIZE(mutex_proxy_ipv4_ops));
	if (err)
		return err;
	mpn->hooks_ipv4 = true;

	if (ipv6_mod_enabled()) {
		err = nf_register_net_hooks(net, mutex_proxy_ipv6_ops,
					    ARRAY_SIZE(mutex_proxy_ipv6_ops));
		if (err) {
			mutex_proxy_hooks_unregister(net, mpn);
			return err;
		}
		mpn->hooks_ipv6 = true;
	}
	return 0;
}

/**
 * mutex_proxy_hooks_unregister() - remove the hooks of a namespace
 * @net: the namespace
 * @mpn: its state
 *
 * Removes whatever mutex_proxy_hooks_register() registered. Hooks already
 * running may still finish after this returns: free nothing they use
 * before an RCU grace period. Sleeps.
 */
void mutex_proxy_hooks_unregister(struct net *net, struct mutex_proxy_net *mpn)
{
	if (mpn->hooks_ipv6)
		nf_unregister_net_hooks(net, mutex_proxy_ipv6_ops,
					ARRAY_SIZE(mutex_proxy_ipv6_ops));
	if (mpn->hooks_ipv4)
		nf_unregister_net_hooks(net, mutex_proxy_ipv4_ops,
					ARRAY_SIZE(mutex_proxy_ipv4_ops));
	mpn->hooks_ipv6 = false;
	mpn->hooks_ipv4 = false;
}
