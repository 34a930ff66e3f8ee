// SPDX-License-Identifier: GPL-2.0
/*
 * vm_selftest: provokes one real kernel report on load, so that the VM harness's detection
 * of each kind of report can be tested honestly (tests/vm/selftest.sh). Never load it
 * anywhere but in a test VM.
 *   insmod vm_selftest.ko action=none|warn|leak|uaf|lockdep|ubsan
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/string.h>

static char *action = "none";
module_param(action, charp, 0444);
MODULE_PARM_DESC(action, "none, warn, leak, uaf, lockdep or ubsan");

static int index_param = 4;
module_param_named(index, index_param, int, 0444);
MODULE_PARM_DESC(index, "array index used by action=ubsan (out of bounds by default)");

static void *volatile sink;
static DEFINE_MUTEX(lock_a);
static DEFINE_MUTEX(lock_b);

static int __init vm_selftest_init(void)
{
	if (!strcmp(action, "warn")) {
		WARN(1, "vm_selftest: deliberate warning");
	} else if (!strcmp(action, "leak")) {
		/* Lose the only reference: kmemleak must report it. */
		sink = kmalloc(1024, GFP_KERNEL);
		sink = NULL;
	} else if (!strcmp(action, "uaf")) {
		char *p = kmalloc(64, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		kfree(p);
		pr_info("vm_selftest: read after free: %d\n", READ_ONCE(p[8]));
	} else if (!strcmp(action, "lockdep")) {
		/* A then B, later B then A: a possible circular locking dependency. */
		mutex_lock(&lock_a);
		mutex_lock(&lock_b);
		mutex_unlock(&lock_b);
		mutex_unlock(&lock_a);
		mutex_lock(&lock_b);
		mutex_lock(&lock_a);
		mutex_unlock(&lock_a);
		mutex_unlock(&lock_b);
	} else if (!strcmp(action, "ubsan")) {
		int arr[4] = { 1, 2, 3, 4 };
		int i = READ_ONCE(index_param);

		pr_info("vm_selftest: arr[%d] = %d\n", i, arr[i]);
	} else if (strcmp(action, "none")) {
		pr_err("vm_selftest: unknown action %s\n", action);
		return -EINVAL;
	}
	pr_info("vm_selftest: loaded (action=%s)\n", action);
	return 0;
}

static void __exit vm_selftest_exit(void)
{
}

module_init(vm_selftest_init);
module_exit(vm_selftest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Provokes kernel reports to test the VM harness's detection");
