// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: events to userspace, on the family's multicast groups
 * (include/uapi/linux/mutex_proxy.h, "Multicast groups").
 *
 * "events" carries the changes of a namespace's configuration: a
 * replacement (SET_CONFIG) and a backend's new state or weight
 * (SET_BACKEND). They are rare and come from process context: one message
 * each, built and sent before the request is answered, so a listener sees
 * the change no later than the writer's reply.
 *
 * Nothing is built while the group has no listener in the namespace
 * (genl_has_listeners()). A message that cannot be allocated or that a
 * listener could not take (its receive buffer full: it reads ENOBUFS)
 * counts as lost, one delivered as sent.
 */
#include <linux/mutex_proxy.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "config.h"
#include "events.h"
#include "net.h"
#include "netlink.h"
#include "netlink_config.h"
#include "stats.h"

static void mutex_proxy_event_count(struct net *net, int err)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);

	if (!err)
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_EVENTS_SENT, 1);
	else if (err != -ESRCH)	/* -ESRCH: the last listener just left */
		mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_EVENTS_LOST, 1);
}

/* A message of one event of @type; NULL if nobody listens or no memory. */
static struct sk_buff *mutex_proxy_event_start(struct net *net, u8 type,
					       void **hdr,
					       struct nlattr **ev)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&mutex_proxy_genl_family, net,
				MUTEX_PROXY_GRP_EVENTS))
		return NULL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto lost;
	*hdr = genlmsg_put(msg, 0, 0, &mutex_proxy_genl_family, 0,
			   MUTEX_CMD_EVENT);
	if (!*hdr)
		goto free;
	*ev = nla_nest_start(msg, MUTEX_A_EVENT);
	if (!*ev || nla_put_u8(msg, MUTEX_EVENT_A_TYPE, type))
		goto free;
	return msg;
free:
	nlmsg_free(msg);
lost:
	mutex_proxy_event_count(net, -ENOMEM);
	return NULL;
}

static void mutex_proxy_event_send(struct net *net, struct sk_buff *msg,
				   void *hdr, struct nlattr *ev, int err)
{
	if (err) {
		nlmsg_free(msg);
		mutex_proxy_event_count(net, err);
		return;
	}
	nla_nest_end(msg, ev);
	genlmsg_end(msg, hdr);
	err = genlmsg_multicast_netns(&mutex_proxy_genl_family, net, msg, 0,
				      MUTEX_PROXY_GRP_EVENTS, GFP_KERNEL);
	mutex_proxy_event_count(net, err);
}

/**
 * mutex_proxy_event_config() - announce a new configuration
 * @net: its namespace
 * @generation: its generation
 *
 * Process context; sleeps.
 */
void mutex_proxy_event_config(struct net *net, u64 generation)
{
	struct sk_buff *msg;
	struct nlattr *ev;
	void *hdr;
	int err;

	msg = mutex_proxy_event_start(net, MUTEX_EVENT_CONFIG, &hdr, &ev);
	if (!msg)
		return;
	err = nla_put_u64_64bit(msg, MUTEX_EVENT_A_GENERATION, generation,
				MUTEX_EVENT_A_PAD);
	mutex_proxy_event_send(net, msg, hdr, ev, err);
}

/**
 * mutex_proxy_event_backend() - announce a backend's new state or weight
 * @net: its namespace
 * @generation: the configuration's generation
 * @pool: the pool's name
 * @be: the backend, as it is now
 *
 * Process context; sleeps. The caller keeps @be alive (config_lock).
 */
void mutex_proxy_event_backend(struct net *net, u64 generation,
			       const char *pool,
			       const struct mutex_proxy_backend *be)
{
	struct sk_buff *msg;
	struct nlattr *ev;
	void *hdr;
	int err;

	msg = mutex_proxy_event_start(net, MUTEX_EVENT_BACKEND, &hdr, &ev);
	if (!msg)
		return;
	err = nla_put_u64_64bit(msg, MUTEX_EVENT_A_GENERATION, generation,
				MUTEX_EVENT_A_PAD) ?:
	      nla_put_string(msg, MUTEX_EVENT_A_POOL, pool) ?:
	      mutex_proxy_nl_put_backend_state(msg, MUTEX_EVENT_A_BACKEND, be);
	mutex_proxy_event_send(net, msg, hdr, ev, err);
}
