// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: module init/exit and per-network-namespace state.
 *
 * Order of bring-up: parameters (validated by the kernel's parameter parser
 * before init runs), per-namespace state for every namespace (pernet), then
 * the generic netlink family, so no request ever finds a namespace without
 * its state. Tear-down is the reverse: the family goes first
 * (genl_unregister_family() waits for requests in progress), then every
 * namespace's state.
 *
 * Per namespace: init allocates the counters, creates /proc/net/mutex_proxy
 * and registers the hooks last. pre_exit unregisters the hooks; the pernet
 * core then waits for an RCU grace period (in cleanup_net() and in
 * unregister_pernet_subsys() alike), after which no hook can still be
 * running, and exit removes the proc file and frees the counters. The
 * module queues no RCU callbacks of its own, so no rcu_barrier() is needed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "mutex_proxy.h"

unsigned int mutex_proxy_net_id __read_mostly;

static int __net_init mutex_proxy_net_init(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);
	int err;

	mpn->stats = mutex_proxy_stats_alloc();
	if (!mpn->stats)
		return -ENOMEM;

	err = mutex_proxy_proc_init(net);
	if (err)
		goto err_stats;

	err = mutex_proxy_hooks_register(net, mpn);
	if (err)
		goto err_proc;

	return 0;

err_proc:
	mutex_proxy_proc_exit(net);
err_stats:
	/* A hook registered for a moment may still be running. */
	synchronize_net();
	mutex_proxy_stats_free(mpn->stats);
	mpn->stats = NULL;
	return err;
}

static void __net_exit mutex_proxy_net_pre_exit(struct net *net)
{
	mutex_proxy_hooks_unregister(net, mutex_proxy_pernet(net));
}

static void __net_exit mutex_proxy_net_exit(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);

	/* The pernet core ran synchronize_rcu() since pre_exit. */
	mutex_proxy_proc_exit(net);
	mutex_proxy_stats_free(mpn->stats);
	mpn->stats = NULL;
}

static struct pernet_operations mutex_proxy_net_ops = {
	.init		= mutex_proxy_net_init,
	.pre_exit	= mutex_proxy_net_pre_exit,
	.exit		= mutex_proxy_net_exit,
	.id		= &mutex_proxy_net_id,
	.size		= sizeof(struct mutex_proxy_net),
};

static int __init mutex_proxy_init(void)
{
	int err;

	err = register_pernet_subsys(&mutex_proxy_net_ops);
	if (err) {
		pr_err("cannot set up network namespaces: %d\n", err);
		return err;
	}

	err = mutex_proxy_genl_register();
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		unregister_pernet_subsys(&mutex_proxy_net_ops);
		return err;
	}

	pr_info("version " MUTEX_PROXY_VERSION " loaded\n");
	return 0;
}

static void __exit mutex_proxy_exit(void)
{
	mutex_proxy_genl_unregister();
	unregister_pernet_subsys(&mutex_proxy_net_ops);
	pr_info("unloaded\n");
}

module_init(mutex_proxy_init);
module_exit(mutex_proxy_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mutex_proxy: in-kernel traffic steering to proxies and relays");
MODULE_VERSION(MUTEX_PROXY_VERSION);
MODULE_ALIAS_GENL_FAMILY(MUTEX_PROXY_GENL_NAME);
