#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the Debian packages (mutex-proxy, mutex-proxy-dkms) from the checkout with the standard
# tools (dpkg-buildpackage, debhelper, dh-dkms; the packaging is .debian/, copied to debian/ in a
# scratch copy of the tracked files), runs lintian on them, then installs them with apt into a
# throwaway root and removes them again: an overlay whose lower layer is this machine's root
# (so the dependencies are there, as on a node) and whose upper layer is a tmpfs. In it, apt
# installs both packages, DKMS builds and installs the module for every kernel with headers,
# `modinfo -k` finds it; purge removes every file and directory the packages brought.
# Usage: tests/deb.sh BUILD_DIR [--keep DIR] (--keep: leave the .debs in DIR)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
keep=
[ "${2:-}" = --keep ] && keep=$3
work=$(mktemp -d /tmp/mutex-deb.XXXXXX)
root=$work/root
cleanup() {
	for m in "$root/dev/pts" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root" "$work/upper"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	rm -rf "$work"
}
trap cleanup EXIT
t0=$(date +%s)
step() { echo "deb: $* ($(($(date +%s) - t0)) s)"; }
fail() { echo "deb: FAIL: $*"; exit 1; }

# 1. the packages
version=$(sed -n 's/^#define MUTEX_PROXY_VERSION[[:space:]]*"\(.*\)"/\1/p' "$top/kmod/mutex_proxy.h")
changelog=$(dpkg-parsechangelog -l "$top/.debian/changelog" -S Version)
[ "$version" = "$changelog" ] || fail ".debian/changelog says $changelog, the project $version"
src=$work/mutex-proxy-$version
mkdir -p "$src"
git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$src")
mv "$src/.debian" "$src/debian"
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
	{ tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
debs=("$work"/mutex-proxy_"$version"_*.deb "$work"/mutex-proxy-dkms_"$version"_all.deb)
for d in "${debs[@]}"; do [ -f "$d" ] || fail "no $(basename "$d")"; done
step "built $(for d in "${debs[@]}"; do basename "$d"; done | tr '\n' ' ')"

# 2. lintian: no error, no warning (.debian/*.lintian-overrides say why one is accepted)
rc=0
out=$(lintian --fail-on error,warning "$work"/*.changes 2>&1) || rc=$?
out=$(echo "$out" | grep -v '^running with root privileges' || true)
[ -z "$out" ] || echo "$out"
[ "$rc" -eq 0 ] || fail "lintian (exit $rc)"
step "lintian clean"

# 3. install into the throwaway root, check, purge, check
mkdir -p "$work/upper" "$root"
mount -t tmpfs tmpfs "$work/upper"
mkdir -p "$work/upper/u" "$work/upper/w"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper/u,workdir=$work/upper/w" "$root"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
# What the packages may leave: nothing of theirs. (dpkg's and apt's own records change.)
ours() {
	(cd "$root" && find etc/mutex_proxy etc/modprobe.d/mutex_proxy.conf usr/bin/mutexctl usr/sbin/mutexd \
		lib/systemd/system/mutexd.service lib/systemd/system/mutex-proxy-guard.service \
		usr/lib/modules-load.d/mutex_proxy.conf usr/share/doc/mutex-proxy usr/share/doc/mutex-proxy-dkms \
		"usr/src/mutex_proxy-$version" var/lib/dkms/mutex_proxy lib/modules/*/updates/dkms/mutex_proxy.ko* \
		etc/systemd/system/multi-user.target.wants/mutexd.service 2>/dev/null || true)
}
[ -z "$(ours)" ] || fail "the machine has mutex_proxy files before the install: $(ours | head -3)"
in_root apt-get install -y -q --no-install-recommends \
	"/tmp/debs/$(basename "${debs[0]}")" "/tmp/debs/$(basename "${debs[1]}")" >"$work/install.log" 2>&1 ||
	{ tail -40 "$work/install.log"; fail "apt-get install"; }
step "apt-get install"
for f in usr/bin/mutexctl usr/sbin/mutexd lib/systemd/system/mutexd.service \
	lib/systemd/system/mutex-proxy-guard.service usr/lib/modules-load.d/mutex_proxy.conf \
	etc/mutex_proxy/mutexd.toml etc/modprobe.d/mutex_proxy.conf "usr/src/mutex_proxy-$version/dkms.conf"; do
	[ -e "$root/$f" ] || fail "not installed: /$f"
done
in_root mutexctl version | grep -Eq "^mutexctl +$version$" || fail "mutexctl version: $(in_root mutexctl version)"
in_root mutexctl config validate /etc/mutex_proxy/mutexd.toml >/dev/null || fail "the shipped configuration"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/mutexd.service" ] || fail "mutexd enabled at install"
grep -q '^/etc/mutex_proxy/mutexd.toml$' "$root/var/lib/dpkg/info/mutex-proxy.conffiles" ||
	fail "mutexd.toml is not a conffile"
kernels=0
for dir in "$root"/lib/modules/*/build; do
	kver=$(basename "$(dirname "$dir")")
	case $kver in 6.1.*|6.[2-9].*|6.1[0-2].*) ;; *) continue ;; esac
	kernels=$((kernels + 1))
	in_root dkms status mutex_proxy/"$version" -k "$kver" | grep -q installed ||
		{ tail -20 "$work/install.log"; fail "dkms did not install the module for $kver: $(in_root dkms status)"; }
	path=$(in_root modinfo -k "$kver" -F filename mutex_proxy) || fail "modinfo -k $kver finds no module"
	case $path in */updates/dkms/mutex_proxy.ko*) ;; *) fail "modinfo -k $kver: $path" ;; esac
	step "DKMS built and installed it for $kver: $path"
done
[ "$kernels" -ge 1 ] || fail "no kernel with headers to build for"
in_root apt-get purge -y -q mutex-proxy mutex-proxy-dkms >"$work/purge.log" 2>&1 ||
	{ tail -40 "$work/purge.log"; fail "apt-get purge"; }
left=$(ours)
[ -z "$left" ] || fail "left behind after purge: $left"
step "apt-get purge left nothing behind"
if [ -n "$keep" ]; then
	mkdir -p "$keep" && cp "${debs[@]}" "$keep/"
fi
echo "deb: ok in $(($(date +%s) - t0)) s"
