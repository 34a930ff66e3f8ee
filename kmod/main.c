// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: module init and exit.
 *
 * Order of bring-up: parameters (validated by the kernel's parameter parser
 * before init runs), per-namespace state for every namespace (net.c), then
 * the generic netlink family, so no request ever finds a namespace without
 * its state. Tear-down is the reverse: the family goes first
 * (genl_unregister_family() waits for requests in progress), then every
 * namespace's state.
 *
 * Module-wide: the flows' kmem_cache (table.c) and the per-CPU caches and
 * batches (account.c) exist before the first namespace and go after the
 * last one. Replaced configurations and removed flows are freed by
 * call_rcu() callbacks: module exit waits for them with rcu_barrier() after
 * the last namespace is gone and before the module's code goes away.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mutex_proxy.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>

#include "account.h"
#include "bench.h"
#include "mutex_proxy.h"
#include "net.h"
#include "netlink.h"
#include "sched.h"
#include "table.h"

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
	err = mutex_proxy_net_register();
	if (err) {
		pr_err("cannot set up network namespaces: %d\n", err);
		goto err_account;
	}

	err = mutex_proxy_genl_register();
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		goto err_pernet;
	}

	mutex_proxy_bench_init();
	pr_info("version " MUTEX_PROXY_VERSION " loaded\n");
	return 0;

err_pernet:
	mutex_proxy_net_unregister();
err_account:
	rcu_barrier();
	mutex_proxy_account_exit();
err_cache:
	mutex_proxy_table_cache_exit();
	return err;
}

static void __exit mutex_proxy_exit(void)
{
	mutex_proxy_bench_exit();
	mutex_proxy_genl_unregister();
	mutex_proxy_net_unregister();
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
