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
 * Module-wide: the flows' kmem_cache (table.c) and the per-CPU caches and
 * batches (account.c) exist before the first namespace and go after the
 * last one.
 *
 * Per namespace: init allocates the counters and the connection table,
 * creates /proc/net/mutex_proxy, registers the counting hooks and last the
 * NAT functions (steer.c, which also take a conntrack reference for the
 * namespace). pre_exit unregisters them in reverse order; the pernet core
 * then waits for an RCU grace period (in cleanup_net() and in
 * unregister_pernet_subsys() alike), after which no hook can still be
 * running, and exit removes the proc file, empties the connection table
 * (the flows go by RCU callbacks) and frees the counters and the
 * configuration. Replaced configurations and removed flows are freed by
 * call_rcu() callbacks: module exit waits for them with rcu_barrier() after
 * the last namespace is gone and before the module's code goes away.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "mutex_proxy.h"

unsigned int mutex_proxy_net_id __read_mostly;
EXPORT_SYMBOL_FOR_MUTEX_PROXY_KUNIT(mutex_proxy_net_id);

static int __net_init mutex_proxy_net_init(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);
	int err;

	mpn->net = net;
	mutex_init(&mpn->config_lock);
	RCU_INIT_POINTER(mpn->config, NULL);
	mpn->generation = 0;
	mpn->stats = mutex_proxy_stats_alloc();
	if (!mpn->stats)
		return -ENOMEM;

	err = mutex_proxy_table_init(mpn);
	if (err)
		goto err_stats;

	err = mutex_proxy_proc_init(net);
	if (err)
		goto err_table;

	err = mutex_proxy_hooks_register(net, mpn);
	if (err)
		goto err_proc;

	err = mutex_proxy_steer_register(net, mpn);
	if (err)
		goto err_hooks;

	return 0;

err_hooks:
	mutex_proxy_hooks_unregister(net, mpn);
err_proc:
	mutex_proxy_proc_exit(net);
err_table:
	/* A hook registered for a moment may still be running. */
	synchronize_net();
	mutex_proxy_table_exit(mpn);
err_stats:
	mutex_proxy_stats_free(mpn->stats);
	mpn->stats = NULL;
	return err;
}

static void __net_exit mutex_proxy_net_pre_exit(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);

	mutex_proxy_steer_unregister(net, mpn);
	mutex_proxy_hooks_unregister(net, mpn);
}

static void __net_exit mutex_proxy_net_exit(struct net *net)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(net);

	/* The pernet core ran synchronize_rcu() since pre_exit: no hook
	 * still reads the configuration, and no request can be running in
	 * a namespace being dismantled.
	 */
	mutex_proxy_proc_exit(net);
	mutex_proxy_table_exit(mpn);
	mutex_proxy_config_free(rcu_dereference_protected(mpn->config, true));
	RCU_INIT_POINTER(mpn->config, NULL);
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

	mutex_proxy_sched_init();
	err = mutex_proxy_table_cache_init();
	if (err)
		return err;
	err = mutex_proxy_account_init();
	if (err)
		goto err_cache;
	err = register_pernet_subsys(&mutex_proxy_net_ops);
	if (err) {
		pr_err("cannot set up network namespaces: %d\n", err);
		goto err_account;
	}

	err = mutex_proxy_genl_register();
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		goto err_pernet;
	}

	pr_info("version " MUTEX_PROXY_VERSION " loaded\n");
	return 0;

err_pernet:
	unregister_pernet_subsys(&mutex_proxy_net_ops);
err_account:
	rcu_barrier();
	mutex_proxy_account_exit();
err_cache:
	mutex_proxy_table_cache_exit();
	return err;
}

static void __exit mutex_proxy_exit(void)
{
	mutex_proxy_genl_unregister();
	unregister_pernet_subsys(&mutex_proxy_net_ops);
	/* Replaced configurations and removed flows are freed by RCU
	 * callbacks; the flows' cache is destroyed after them.
	 */
	rcu_barrier();
	mutex_proxy_account_exit();
	mutex_proxy_table_cache_exit();
	pr_info("unloaded\n");
}

module_init(mutex_proxy_init);
module_exit(mutex_proxy_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mutex_proxy: in-kernel traffic steering to proxies and relays");
MODULE_VERSION(MUTEX_PROXY_VERSION);
MODULE_ALIAS_GENL_FAMILY(MUTEX_PROXY_GENL_NAME);
