/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: what holds for the whole module. Each subsystem has its own
 * header, named for its file (params.h for params.c, ...).
 *
 * Lifetimes
 *   - Module parameters are module-wide (params.c), serialized by one mutex,
 *     read locklessly with READ_ONCE().
 *   - Everything else is per network namespace (struct mutex_proxy_net,
 *     net.h, owned by the pernet_operations in net.c): created in the
 *     namespace's init, hooks removed in pre_exit, freed in exit after the
 *     RCU grace period the core runs between the two.
 */
#ifndef _MUTEX_PROXY_H
#define _MUTEX_PROXY_H

#include <linux/gfp.h>

#define MUTEX_PROXY_VERSION	"0.1.0"

/*
 * Allocations of a SET_CONFIG (snapshot, rules, classifier, backends,
 * counters, cgroup paths): charged to the memory cgroup of whoever sets the
 * configuration, and failing rather than OOM-killing to make room: a
 * configuration too large for its cgroup is refused with -ENOMEM and the
 * running one stays.
 */
#define MUTEX_PROXY_GFP_CONFIG	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL)

#endif /* _MUTEX_PROXY_H */
