// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: /proc/net/mutex_proxy, one per network namespace.
 *
 *	mutex_proxy 0.1.0
 *	perf_enable_batching 1
 *	...
 *	pkts_seen 1234
 *	...
 *	flow_count 12
 *
 * The version line, then every module parameter, then every counter of the
 * reader's namespace (summed over CPUs, pending accounting batches folded
 * first), then the number of flows in its connection table, one
 * "name value" per line.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>

#include "account.h"
#include "mutex_proxy.h"
#include "net.h"
#include "params.h"
#include "proc.h"
#include "stats.h"
#include "table.h"

#define MUTEX_PROXY_PROC_NAME	"mutex_proxy"

static int mutex_proxy_proc_show(struct seq_file *seq, void *v)
{
	struct mutex_proxy_net *mpn = mutex_proxy_pernet(seq_file_single_net(seq));
	struct mutex_proxy_stats_sum sum;
	struct mutex_proxy_params params;
	enum mutex_stats_attr attr;
	enum mutex_param_attr id;

	mutex_proxy_params_get(&params);
	mutex_proxy_account_flush_all();
	mutex_proxy_stats_sum(mpn->stats, &sum);

	seq_puts(seq, "mutex_proxy " MUTEX_PROXY_VERSION "\n");
	for (id = MUTEX_PARAM_A_UNSPEC + 1; id <= MUTEX_PARAM_A_MAX; id++)
		seq_printf(seq, "%s %u\n", mutex_proxy_param_name(id),
			   params.val[id]);
	for (attr = MUTEX_PROXY_STAT_FIRST; attr <= MUTEX_STATS_A_MAX; attr++)
		seq_printf(seq, "%s %llu\n", mutex_proxy_stat_name(attr),
			   sum.cnt[attr - MUTEX_PROXY_STAT_FIRST]);
	seq_printf(seq, "flow_count %u\n", mutex_proxy_table_count(mpn));
	return 0;
}

/**
 * mutex_proxy_proc_init() - create /proc/net/mutex_proxy in a namespace
 * @net: the namespace; its state's statistics must already exist
 *
 * Return: 0 (also when the kernel has no procfs) or -ENOMEM.
 */
int mutex_proxy_proc_init(struct net *net)
{
	if (!IS_ENABLED(CONFIG_PROC_FS))
		return 0;
	if (!proc_create_net_single(MUTEX_PROXY_PROC_NAME, 0444, net->proc_net,
				    mutex_proxy_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

/**
 * mutex_proxy_proc_exit() - remove /proc/net/mutex_proxy from a namespace
 * @net: the namespace
 *
 * Waits for readers inside mutex_proxy_proc_show() to leave. Sleeps.
 */
void mutex_proxy_proc_exit(struct net *net)
{
	remove_proc_entry(MUTEX_PROXY_PROC_NAME, net->proc_net);
}
