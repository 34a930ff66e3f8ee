// SPDX-License-Identifier: GPL-2.0
/*
 * mutex_proxy: rules that match a cgroup v2 path.
 *
 * A rule names a path ("/system.slice/cometbft.service"), not a cgroup
 * object: when systemd restarts a unit it removes the unit's cgroup and
 * creates a new one at the same path, and a rule resolved to the old object
 * once would silently stop matching the new processes (for a drop rule that
 * is a leak). So the path is kept as its components and compared, for each
 * new connection, with the path of the socket's cgroup: a socket matches if
 * its cgroup is the one at the path now, or below it. A rule may name a path
 * that does not exist yet (a unit that has not started): it matches nothing
 * until a cgroup appears there.
 *
 * The comparison needs no lock: a socket holds a reference on its cgroup,
 * which pins every ancestor and its kernfs node; and cgroup v2 directories
 * cannot be renamed (only cgroup v1 offers rename), so a live cgroup's path
 * never changes. That also makes a cache exact: the id of the last cgroup
 * found at the path (ids are 64-bit and never reused) answers every later
 * socket of that cgroup or below it with one comparison; a new cgroup at the
 * path (after a restart) misses once, is compared by name and replaces it.
 *
 * Paths are relative to the cgroup namespace root of the process that sets
 * the configuration, as cgroup_get_from_path() and the cgroup2 mount inside
 * a container see them.
 */
#include <linux/cgroup.h>
#include <linux/err.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/sock.h>

#include "cgroup.h"
#include "mutex_proxy.h"
#include "compat.h"

/**
 * struct mutex_proxy_cgroup_match - a cgroup v2 path to match sockets with
 * @root: the cgroup namespace root the path is relative to (a reference)
 * @last_id: id of the cgroup last found at the path, 0 for none; a cache
 *	written from the packet path, any value read is a valid answer
 * @depth: number of components
 * @comp: the components, @depth pointers into @buf
 * @buf: the path with every '/' replaced by NUL
 */
struct mutex_proxy_cgroup_match {
	struct cgroup *root;
	atomic64_t last_id;
	u32 depth;
	const char **comp;
	char buf[];
};

#if MUTEX_PROXY_HAVE_CGROUP

/*
 * Split @path ("/a/b") into components; refuses what the cgroup2 file
 * system could never have at a path: a relative path, empty components
 * ("//", a trailing '/'), "." and "..".
 */
static int mutex_proxy_cgroup_split(struct mutex_proxy_cgroup_match *m,
				    const char **msg)
{
	char *p = m->buf, *c;
	u32 n = 0;

	if (*p != '/') {
		*msg = "a cgroup path must be absolute (start with '/')";
		return -EINVAL;
	}
	if (!p[1])
		return 0;	/* "/": the root, every socket */
	while ((c = strsep(&p, "/"))) {
		if (c == m->buf)
			continue;	/* before the leading '/' */
		if (!*c) {
			*msg = "a cgroup path has no empty components (\"//\" or a trailing '/')";
			return -EINVAL;
		}
		if (!strcmp(c, ".") || !strcmp(c, "..")) {
			*msg = "a cgroup path has no '.' or '..' components";
			return -EINVAL;
		}
		m->comp[n++] = c;
	}
	m->depth = n;
	return 0;
}

/**
 * mutex_proxy_cgroup_match_new() - prepare a cgroup path for matching
 * @path: absolute cgroup v2 path; need not exist
 * @msg: set to a message for the user on a bad path
 *
 * The path is taken relative to the caller's cgroup namespace. Sleeps.
 *
 * Return: the match, or an ERR_PTR(): -EINVAL (bad path, @msg set),
 * -ENOMEM, or what looking up the caller's cgroup namespace root gave.
 */
struct mutex_proxy_cgroup_match *
mutex_proxy_cgroup_match_new(const char *path, const char **msg)
{
	struct mutex_proxy_cgroup_match *m;
	size_t len = strlen(path), slots;
	struct cgroup *root;
	int err;

	/* at most one component per two characters ("/a/b") */
	slots = len / 2 + 1;
	m = kzalloc(struct_size(m, buf, len + 1) + sizeof(void *) +
		    slots * sizeof(*m->comp), MUTEX_PROXY_GFP_CONFIG);
	if (!m)
		return ERR_PTR(-ENOMEM);
	memcpy(m->buf, path, len + 1);
	m->comp = (const char **)PTR_ALIGN(m->buf + len + 1, sizeof(void *));
	err = mutex_proxy_cgroup_split(m, msg);
	if (err)
		goto fail;
	root = cgroup_get_from_path("/");
	if (IS_ERR_OR_NULL(root)) {
		*msg = "no cgroup v2 hierarchy for this process";
		err = root ? PTR_ERR(root) : -ENOENT;
		goto fail;
	}
	m->root = root;
	return m;
fail:
	kfree(m);
	return ERR_PTR(err);
}

/**
 * mutex_proxy_cgroup_match_free() - free a match
 * @m: the match, or NULL
 *
 * Drops the root reference; may be called from an RCU callback.
 */
void mutex_proxy_cgroup_match_free(struct mutex_proxy_cgroup_match *m)
{
	if (!m)
		return;
	cgroup_put(m->root);
	kfree(m);
}

/**
 * mutex_proxy_cgroup_match_sk() - does a socket live at or below the path
 * @m: the match
 * @sk: a full socket of this host (its cgroup reference pins the chain)
 *
 * Any context; no lock, no allocation. O(depth) string compares on a cache
 * miss, one compare on a hit.
 *
 * Return: whether the socket's cgroup is the cgroup at @m's path now, or a
 * descendant of it.
 */
bool mutex_proxy_cgroup_match_sk(struct mutex_proxy_cgroup_match *m,
				 struct sock *sk)
{
	struct cgroup *c = sock_cgroup_ptr(&sk->sk_cgrp_data);
	int base = m->root->level;
	struct cgroup *at;
	u32 i;

	at = cgroup_ancestor(c, base + m->depth);
	if (!at || cgroup_ancestor(c, base) != m->root)
		return false;
	if (cgroup_id(at) == atomic64_read(&m->last_id))
		return true;
	for (i = m->depth; i; i--) {
		if (strcmp(cgroup_ancestor(c, base + i)->kn->name,
			   m->comp[i - 1]))
			return false;
	}
	atomic64_set(&m->last_id, cgroup_id(at));
	return true;
}

/**
 * mutex_proxy_cgroup_match_root() - the root a match's path is relative to
 * @m: the match
 *
 * Return: the cgroup namespace root (@m holds the reference).
 */
const struct cgroup *
mutex_proxy_cgroup_match_root(const struct mutex_proxy_cgroup_match *m)
{
	return m->root;
}

/**
 * mutex_proxy_cgroup_match_depth() - number of components of a match's path
 * @m: the match
 *
 * Return: 0 for the root itself.
 */
u32 mutex_proxy_cgroup_match_depth(const struct mutex_proxy_cgroup_match *m)
{
	return m->depth;
}

/* The classifier's key of a path: a hash of its components, in order. */
static u32 mutex_proxy_cgroup_hash(u32 h, const char *name)
{
	return jhash(name, strlen(name), h);
}

/**
 * mutex_proxy_cgroup_match_key() - the classifier's key of a match's path
 * @m: the match
 *
 * Return: what mutex_proxy_cgroup_key_sk() gives for a socket at or below
 * the path (other paths of the same depth give other keys, but for hash
 * collisions: the classifier checks every candidate in full).
 */
u32 mutex_proxy_cgroup_match_key(const struct mutex_proxy_cgroup_match *m)
{
	u32 h = 0, i;

	for (i = 0; i < m->depth; i++)
		h = mutex_proxy_cgroup_hash(h, m->comp[i]);
	return h;
}

/**
 * mutex_proxy_cgroup_key_sk() - the classifier's key of a socket's cgroup
 * @root: the cgroup namespace root of the paths looked for
 * @depth: their depth below @root
 * @sk: a full socket of this host
 * @key: set to the key of the socket's ancestor @depth levels below @root
 *
 * Any context; no lock (as mutex_proxy_cgroup_match_sk()).
 *
 * Return: false if the socket's cgroup is not @depth levels or more below
 * @root (no path of that depth can match it).
 */
bool mutex_proxy_cgroup_key_sk(const struct cgroup *root, u32 depth,
			       struct sock *sk, u32 *key)
{
	struct cgroup *c = sock_cgroup_ptr(&sk->sk_cgrp_data);
	int base = root->level;
	u32 h = 0, i;

	if (!cgroup_ancestor(c, base + depth) || cgroup_ancestor(c, base) != root)
		return false;
	for (i = 1; i <= depth; i++)
		h = mutex_proxy_cgroup_hash(h, cgroup_ancestor(c, base + i)->kn->name);
	*key = h;
	return true;
}

#else /* !MUTEX_PROXY_HAVE_CGROUP */

struct mutex_proxy_cgroup_match *
mutex_proxy_cgroup_match_new(const char *path, const char **msg)
{
	*msg = "this kernel cannot match cgroups (no CONFIG_SOCK_CGROUP_DATA)";
	return ERR_PTR(-EOPNOTSUPP);
}

void mutex_proxy_cgroup_match_free(struct mutex_proxy_cgroup_match *m)
{
}

bool mutex_proxy_cgroup_match_sk(struct mutex_proxy_cgroup_match *m,
				 struct sock *sk)
{
	return false;
}

const struct cgroup *
mutex_proxy_cgroup_match_root(const struct mutex_proxy_cgroup_match *m)
{
	return NULL;
}

u32 mutex_proxy_cgroup_match_depth(const struct mutex_proxy_cgroup_match *m)
{
	return 0;
}

u32 mutex_proxy_cgroup_match_key(const struct mutex_proxy_cgroup_match *m)
{
	return 0;
}

bool mutex_proxy_cgroup_key_sk(const struct cgroup *root, u32 depth,
			       struct sock *sk, u32 *key)
{
	return false;
}

#endif
