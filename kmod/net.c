// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: the state of each network namespace.
 *
 * Per namespace: init allocates the counters and the connection table and
 * creates /proc/net/mutex_proxy; nothing else. A namespace pays for the
 * datapath only once its configuration has a rule: then
 * mutex_proxy_net_activate() registers the counting hooks and the NAT
 * functions (steer.c, which also take conntrack and connlabel references
 * for the namespace), and mutex_proxy_net_deactivate() releases them when
 * the configuration is emptied. pre_exit deactivates; the pernet core
 * then waits for an RCU grace period (in cleanup_net() and in
 * unregister_pernet_subsys() alike), after which no hook can still be
 * running, and exit removes the proc file, empties the connection table
 * (the flows go by RCU callbacks) and frees the counters and the
 * configuration.
 */
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <net/net_namespace.h>

#include "config.h"
#include "hooks.h"
#include "events.h"
#include "net.h"
#include "proc.h"
#include "stats.h"
#include "steer.h"
#include "table.h"
#include "compat.h"

unsigned int mutex_proxy_net_id __read_mostly;
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_net_id);

/**
 * mutex_proxy_net_state_init() - set up a namespace's state: counters, event
 *	batches, connection table, no configuration
 * @mpn: the state, zeroed
 * @net: the namespace whose traffic it counts (a state that is no
 *	namespace's own, for KUnit and the benchmark build, names init_net)
 *
 * Sleeps. Return: 0, or a negative errno with nothing left allocated.
 */
int mutex_proxy_net_state_init(struct mutex_proxy_net *mpn, struct net *net)
{
	int err;

	mpn->net = net;
	mutex_init(&mpn->config_lock);
	RCU_INIT_POINTER(mpn->config, NULL);
	mpn->generation = 0;
	mpn->stats = mutex_proxy_stats_alloc();
	if (!mpn->stats)
		return -ENOMEM;

	err = mutex_proxy_events_init(mpn);
	if (err)
		goto err_stats;

	err = mutex_proxy_table_init(mpn);
	if (err)
		goto err_events;
	return 0;

err_events:
	mutex_proxy_events_exit(mpn);
err_stats:
	mutex_proxy_stats_free(mpn->stats);
	mpn->stats = NULL;
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_net_state_init);

/**
 * mutex_proxy_net_state_exit() - tear down a namespace's state
 * @mpn: the state; no packet, request or hook uses it any more
 *
 * Its flows are freed by RCU callbacks: rcu_barrier() waits for them.
 * Sleeps.
 */
void mutex_proxy_net_state_exit(struct mutex_proxy_net *mpn)
{
	mutex_proxy_table_exit(mpn);
	mutex_proxy_events_exit(mpn);
	mutex_proxy_config_free(rcu_dereference_protected(mpn->config, true));
	RCU_INIT_POINTER(mpn->config, NULL);
	mutex_proxy_stats_free(mpn->stats);
	mpn->stats = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_net_state_exit);

static int __net_init mutex_proxy_net_init(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);
	int err;

	err = mutex_proxy_net_state_init(mpn, net);
	if (err)
		return err;
	err = mutex_proxy_proc_init(net);
	if (err)
		mutex_proxy_net_state_exit(mpn);
	return err;
}

/**
 * mutex_proxy_net_activate() - switch the datapath on in a namespace
 * @mpn: the namespace's state
 *
 * Called when the namespace's configuration first has a rule: enables
 * conntrack and its labels and registers the counting hooks and the NAT
 * functions. Idempotent. Caller holds @mpn->config_lock. Sleeps.
 *
 * Return: 0, or a negative errno with nothing left registered.
 */
VISIBLE_IF_KUNIT
int mutex_proxy_net_activate(struct mutex_proxy_net *mpn)
{
	int err;

	lockdep_assert_held(&mpn->config_lock);
	if (mpn->active)
		return 0;
	err = mutex_proxy_hooks_register(mpn->net, mpn);
	if (err)
		return err;
	err = mutex_proxy_steer_register(mpn->net, mpn);
	if (err) {
		mutex_proxy_hooks_unregister(mpn->net, mpn);
		return err;
	}
	mpn->active = true;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_net_activate);

/**
 * mutex_proxy_net_deactivate() - switch the datapath off in a namespace
 * @mpn: the namespace's state
 *
 * Called when the namespace's configuration has no rule any more (and at
 * namespace exit): the NAT functions and the hooks go, and conntrack and
 * its labels are released. Connections steered before keep their NAT (it
 * is conntrack's); their flows stay in the table, uncounted, until their
 * entries die. Caller holds @mpn->config_lock, or the namespace is being
 * dismantled. Sleeps.
 */
VISIBLE_IF_KUNIT
void mutex_proxy_net_deactivate(struct mutex_proxy_net *mpn)
{
	mutex_proxy_steer_unregister(mpn->net, mpn);
	mutex_proxy_hooks_unregister(mpn->net, mpn);
	mpn->active = false;
}
EXPORT_SYMBOL_IF_KUNIT(mutex_proxy_net_deactivate);

/**
 * mutex_proxy_net_set_config() - install a namespace's new configuration
 * @mpn: the namespace's state
 * @cfg: the new snapshot (see mutex_proxy_config_replace())
 * @had: the generation the writer read
 * @extack: for error messages
 *
 * The datapath goes on before a configuration with rules is published, and
 * off after one without is. The first one with rules also adopts the
 * connections an earlier load of the module steered (mutex_proxy_table_adopt()):
 * cfg is current then, under the lock. Caller holds @mpn->config_lock. Sleeps.
 *
 * Return: 0, -ESTALE, or the errno of switching the datapath on; on
 * failure @cfg is freed and nothing changed.
 */
int mutex_proxy_net_set_config(struct mutex_proxy_net *mpn,
			       struct mutex_proxy_config *cfg, u64 had,
			       struct netlink_ext_ack *extack)
{
	bool rules = cfg->n_rules;
	int err;

	lockdep_assert_held(&mpn->config_lock);
	if (rules && had == mpn->generation) {
		err = mutex_proxy_net_activate(mpn);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "cannot enable conntrack, NAT and hooks in this namespace");
			mutex_proxy_config_free(cfg);
			return err;
		}
	}
	err = mutex_proxy_config_replace(mpn, cfg, had, extack);
	if (err)
		return err;
	if (!rules) {
		mutex_proxy_net_deactivate(mpn);
	} else if (!mpn->adopted) {
		/* Connections an earlier load of the module steered. */
		mpn->adopted = true;
		mutex_proxy_table_adopt(mpn, cfg);
	}
	return 0;
}

static void __net_exit mutex_proxy_net_pre_exit(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);

	mutex_proxy_net_deactivate(mpn);
}

static void __net_exit mutex_proxy_net_exit(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);

	/* The pernet core ran synchronize_rcu() since pre_exit: no hook
	 * still reads the configuration, and no request can be running in
	 * a namespace being dismantled.
	 */
	mutex_proxy_proc_exit(net);
	mutex_proxy_net_state_exit(mpn);
}

static struct pernet_operations mutex_proxy_net_ops = {
	.init		= mutex_proxy_net_init,
	.pre_exit	= mutex_proxy_net_pre_exit,
	.exit		= mutex_proxy_net_exit,
	.id		= &mutex_proxy_net_id,
	.size		= sizeof(struct mutex_proxy_net),
};

/**
 * mutex_proxy_net_register() - set up the state of every namespace, present
 *	and future
 *
 * Return: 0 or a negative errno.
 */
int mutex_proxy_net_register(void)
{
	return register_pernet_subsys(&mutex_proxy_net_ops);
}

/**
 * mutex_proxy_net_unregister() - tear down the state of every namespace
 */
void mutex_proxy_net_unregister(void)
{
	unregister_pernet_subsys(&mutex_proxy_net_ops);
}
