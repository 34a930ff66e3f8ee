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
 * "flows" carries flow starts (a steered flow became tracked, table.c) and
 * ends (it left the table). Those come from the packet path and in bursts:
 * each CPU gathers them into its own message (struct
 * mutex_proxy_event_batch, under a per-CPU lock with BH off), sent when it
 * holds perf_batch_size events or is full, and at the latest
 * MUTEX_EVENT_FLUSH_MS after its first event by the namespace's flush work.
 *
 * Nothing is built while the group has no listener in the namespace
 * (genl_has_listeners()). A message that cannot be allocated or that a
 * listener could not take (its receive buffer full: it reads ENOBUFS)
 * counts as lost, one delivered as sent.
 */
#include <linux/jiffies.h>
#include <linux/mutex_proxy.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "config.h"
#include "events.h"
#include "net.h"
#include "netlink.h"
#include "netlink_config.h"
#include "params.h"
#include "stats.h"
#include "table.h"
#include "compat.h"

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

/**
 * struct mutex_proxy_event_batch - one CPU's message of flow events
 * @lock: serializes the CPU's writers and the flush work
 * @msg: the message being filled, or NULL
 * @hdr: its genetlink header
 * @n: events in @msg
 */
struct mutex_proxy_event_batch {
	spinlock_t lock;	/* serializes the CPU's writers and the flush */
	struct sk_buff *msg;
	void *hdr;
	u32 n;
};

/* Sends @b's message; @b->lock held. */
static void mutex_proxy_batch_send(struct mutex_proxy_net *mpn,
				   struct mutex_proxy_event_batch *b)
{
	int err;

	if (!b->msg)
		return;
	genlmsg_end(b->msg, b->hdr);
	err = genlmsg_multicast_netns(&mutex_proxy_genl_family, mpn->net,
				      b->msg, 0, MUTEX_PROXY_GRP_FLOWS,
				      GFP_ATOMIC);
	mutex_proxy_event_count(mpn->net, err);
	b->msg = NULL;
	b->n = 0;
}

/* One flow event into @msg; nothing added if it does not fit. */
static int mutex_proxy_put_flow_event(struct sk_buff *msg, u8 type,
				      const struct nf_conn *ct,
				      const struct mutex_proxy_flow *flow)
{
	struct nlattr *ev = nla_nest_start(msg, MUTEX_A_EVENT);

	if (!ev)
		return -EMSGSIZE;
	if (nla_put_u8(msg, MUTEX_EVENT_A_TYPE, type) ||
	    mutex_proxy_nl_put_flow(msg, MUTEX_EVENT_A_FLOW, ct, flow)) {
		nla_nest_cancel(msg, ev);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, ev);
	return 0;
}

/* Opens a message in @b; @b->lock held. */
static int mutex_proxy_batch_open(struct mutex_proxy_event_batch *b)
{
	b->msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!b->msg)
		return -ENOMEM;
	b->hdr = genlmsg_put(b->msg, 0, 0, &mutex_proxy_genl_family, 0,
			     MUTEX_CMD_EVENT);
	if (!b->hdr) {
		nlmsg_free(b->msg);
		b->msg = NULL;
		return -EMSGSIZE;
	}
	return 0;
}

/**
 * mutex_proxy_event_flow() - announce a flow's start or end
 * @mpn: its namespace
 * @type: MUTEX_EVENT_FLOW_START or MUTEX_EVENT_FLOW_END
 * @flow: the flow, holding a reference on its entry (tracked)
 *
 * Any context; never sleeps. Costs one test while nobody listens.
 */
void mutex_proxy_event_flow(struct mutex_proxy_net *mpn, u8 type,
			    const struct mutex_proxy_flow *flow)
{
	struct mutex_proxy_event_batch *b;

	if (!mpn->events ||
	    !genl_has_listeners(&mutex_proxy_genl_family, mpn->net,
				MUTEX_PROXY_GRP_FLOWS))
		return;
	local_bh_disable();
	b = this_cpu_ptr(mpn->events);
	spin_lock(&b->lock);
	if (!b->msg && mutex_proxy_batch_open(b))
		goto lost;
	if (mutex_proxy_put_flow_event(b->msg, type, flow->ct, flow)) {
		/* Full: send it and start the next one with this event. */
		mutex_proxy_batch_send(mpn, b);
		if (mutex_proxy_batch_open(b))
			goto lost;
		if (mutex_proxy_put_flow_event(b->msg, type, flow->ct, flow))
			goto lost;
	}
	if (++b->n >= mutex_proxy_param_get(MUTEX_PARAM_A_BATCH_SIZE))
		mutex_proxy_batch_send(mpn, b);
	else if (b->n == 1)
		schedule_delayed_work(&mpn->events_flush,
				      msecs_to_jiffies(MUTEX_EVENT_FLUSH_MS));
	goto out;
lost:
	mutex_proxy_stats_add(mpn->stats, MUTEX_STATS_A_EVENTS_LOST, 1);
out:
	spin_unlock(&b->lock);
	local_bh_enable();
}

/* Sends every CPU's pending flow events. */
static void mutex_proxy_events_flush(struct mutex_proxy_net *mpn)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct mutex_proxy_event_batch *b = per_cpu_ptr(mpn->events, cpu);

		spin_lock_bh(&b->lock);
		mutex_proxy_batch_send(mpn, b);
		spin_unlock_bh(&b->lock);
	}
}

static void mutex_proxy_events_flush_work(struct work_struct *work)
{
	struct mutex_proxy_net *mpn =
		container_of(to_delayed_work(work), struct mutex_proxy_net,
			     events_flush);

	mutex_proxy_events_flush(mpn);
}

/**
 * mutex_proxy_events_init() - a namespace's flow event batches
 * @mpn: the namespace
 *
 * Return: 0 or -ENOMEM.
 */
int mutex_proxy_events_init(struct mutex_proxy_net *mpn)
{
	int cpu;

	INIT_DELAYED_WORK(&mpn->events_flush, mutex_proxy_events_flush_work);
	mpn->events = alloc_percpu(struct mutex_proxy_event_batch);
	if (!mpn->events)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(mpn->events, cpu)->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_events_init);

/**
 * mutex_proxy_events_exit() - undo mutex_proxy_events_init()
 * @mpn: the namespace; nothing adds events any more (the table is gone)
 *
 * Pending events are sent. Sleeps.
 */
void mutex_proxy_events_exit(struct mutex_proxy_net *mpn)
{
	if (!mpn->events)
		return;
	cancel_delayed_work_sync(&mpn->events_flush);
	mutex_proxy_events_flush(mpn);
	free_percpu(mpn->events);
	mpn->events = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_events_exit);
