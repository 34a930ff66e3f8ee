/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: the one place where differences between the supported kernel
 * versions (6.1 and later) are handled. Code elsewhere uses only the helpers
 * below; nothing else tests LINUX_VERSION_CODE or kernel feature macros.
 */
#ifndef _MUTEX_PROXY_COMPAT_H
#define _MUTEX_PROXY_COMPAT_H

#include <linux/cgroup.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/udp.h>

/*
 * Internals visible to the KUnit module: the kernel's VISIBLE_IF_KUNIT (a
 * definition that is static unless the kernel has KUnit) and
 * EXPORT_SYMBOL_IF_KUNIT() (exported to the EXPORTED_FOR_KUNIT_TESTING
 * namespace only then), from <kunit/visibility.h> since 6.2, defined the
 * same way before (Debian's 6.1 has the header as a backport; upstream 6.1
 * does not, and sparse cannot test for a header).
 * Declarations of such symbols sit under IS_ENABLED(CONFIG_KUNIT) in
 * their subsystem's header.
 */
#if KERNEL_VERSION(6, 2, 0) <= LINUX_VERSION_CODE
#include <kunit/visibility.h>
#elif IS_ENABLED(CONFIG_KUNIT)
#define EXPORT_SYMBOL_IF_KUNIT(sym) \
	EXPORT_SYMBOL_NS(sym, EXPORTED_FOR_KUNIT_TESTING)
#define VISIBLE_IF_KUNIT
#else
#define EXPORT_SYMBOL_IF_KUNIT(sym)
#define VISIBLE_IF_KUNIT static
#endif

/*
 * For the KUnit module: import that namespace. Up to 6.12 MODULE_IMPORT_NS()
 * takes an identifier and stringifies it; since 6.13 it takes a string
 * literal. Neither form can be detected by a macro, hence the version test.
 */
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
#define MUTEX_PROXY_IMPORT_KUNIT_NS() \
	MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING")
#else
#define MUTEX_PROXY_IMPORT_KUNIT_NS() \
	MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING)
#endif

/**
 * mutex_proxy_extack_attr() - report a refusal with a message not known at
 *	compile time
 * @extack: extended ack of the request, may be NULL
 * @attr: offending attribute, may be NULL
 * @msg: message; must be a string with static storage duration
 *
 * NL_SET_ERR_MSG_ATTR() only takes string literals. Kernels with
 * NL_SET_ERR_MSG_ATTR_FMT() (6.2+) copy the message into the extack; older
 * ones get the static string assigned the way NL_SET_ERR_MSG_ATTR() does it.
 */
static inline void mutex_proxy_extack_attr(struct netlink_ext_ack *extack,
					   const struct nlattr *attr,
					   const char *msg)
{
#ifdef NL_SET_ERR_MSG_ATTR_FMT
	NL_SET_ERR_MSG_ATTR_FMT(extack, attr, "%s", msg);
#else
	if (extack) {
		extack->_msg = msg;
		extack->bad_attr = attr;
	}
#endif
}

/**
 * mutex_proxy_net_cookie() - the namespace's cookie (as SO_NETNS_COOKIE)
 * @net: network namespace
 *
 * Return: a number assigned once when @net was created; never an address.
 */
static inline u64 mutex_proxy_net_cookie(const struct net *net)
{
	return net->net_cookie;
}

/**
 * mutex_proxy_extack_stale() - report a stale configuration generation
 * @extack: extended ack of the request, may be NULL
 * @had: the generation the writer read
 * @now: the current generation
 *
 * Kernels without NL_SET_ERR_MSG_FMT() (before 6.2) get a message without
 * the numbers.
 */
static inline void mutex_proxy_extack_stale(struct netlink_ext_ack *extack,
					    u64 had, u64 now)
{
#ifdef NL_SET_ERR_MSG_FMT
	NL_SET_ERR_MSG_FMT(extack,
			   "configuration changed since generation %llu (now %llu)",
			   had, now);
#else
	NL_SET_ERR_MSG(extack, "configuration changed since the generation read");
#endif
}

/*
 * cgroup v2 matching needs the socket's cgroup (CONFIG_SOCK_CGROUP_DATA,
 * which every distribution kernel has; cgroup.c refuses cgroup rules
 * without it).
 */
#define MUTEX_PROXY_HAVE_CGROUP IS_ENABLED(CONFIG_SOCK_CGROUP_DATA)

/*
 * UDP sockets: one global table until 6.1; from 6.2 each namespace points
 * to its table (the global one unless udp_child_hash_entries is set).
 */
static inline struct udp_table *mutex_proxy_udp_table(struct net *net)
{
#if KERNEL_VERSION(6, 2, 0) <= LINUX_VERSION_CODE
	return net->ipv4.udp_table;
#else
	return &udp_table;
#endif
}

/*
 * The flows' kmem_cache must keep its own line in /proc/slabinfo: SLUB
 * merges caches of equal size and flags. SLAB_NO_MERGE (6.5+) says so; on
 * older kernels a constructor makes a cache unmergeable. The constructor
 * does nothing: every field is set at allocation (and a cache with a
 * constructor must never be asked for __GFP_ZERO).
 */
#ifdef SLAB_NO_MERGE
static inline struct kmem_cache *
mutex_proxy_kmem_cache_create(const char *name, unsigned int size)
{
	return kmem_cache_create(name, size, 0, SLAB_NO_MERGE, NULL);
}
#else
static inline void mutex_proxy_kmem_cache_ctor(void *obj)
{
}

static inline struct kmem_cache *
mutex_proxy_kmem_cache_create(const char *name, unsigned int size)
{
	return kmem_cache_create(name, size, 0, 0, mutex_proxy_kmem_cache_ctor);
}
#endif

#endif /* _MUTEX_PROXY_COMPAT_H */
