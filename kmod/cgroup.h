/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutex_proxy: cgroup v2 path matches (cgroup.c).
 */
#ifndef _MUTEX_PROXY_CGROUP_H
#define _MUTEX_PROXY_CGROUP_H

#include <linux/types.h>

struct cgroup;
struct mutex_proxy_cgroup_match;
struct sock;

struct mutex_proxy_cgroup_match *
mutex_proxy_cgroup_match_new(const char *path, const char **msg);
void mutex_proxy_cgroup_match_free(struct mutex_proxy_cgroup_match *m);
bool mutex_proxy_cgroup_match_sk(struct mutex_proxy_cgroup_match *m,
				 struct sock *sk);
const struct cgroup *
mutex_proxy_cgroup_match_root(const struct mutex_proxy_cgroup_match *m);
u32 mutex_proxy_cgroup_match_depth(const struct mutex_proxy_cgroup_match *m);
u32 mutex_proxy_cgroup_match_key(const struct mutex_proxy_cgroup_match *m);
bool mutex_proxy_cgroup_key_sk(const struct cgroup *root, u32 depth,
			       struct sock *sk, u32 *key);

#endif /* _MUTEX_PROXY_CGROUP_H */
