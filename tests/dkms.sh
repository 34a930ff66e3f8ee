#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks dkms.conf the way an operator uses it: `dkms add`, `dkms build` and `dkms install` for
# every kernel with headers in /lib/modules, into throwaway DKMS, source and install trees (the
# host's /lib/modules and /var/lib/dkms are not touched). Asserts that each kernel gets
# updates/dkms/mutex_proxy.ko compressed the way that kernel compresses its own modules, built
# for that kernel (vermagic) and carrying the project's version.
# Usage: tests/dkms.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
work=$(mktemp -d /tmp/mutex-dkms.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/src/mutex_proxy-$version
mkdir -p "$src" "$work/tree"
cp -a "$top/Kbuild" "$top/dkms.conf" "$top/kmod" "$top/include" "$src/"
mkdir -p "$src/tests" && cp -a "$top/tests/kunit" "$src/tests/"
trees=(--sourcetree "$work/src" --dkmstree "$work/tree")

dkms add -m mutex_proxy -v "$version" "${trees[@]}" >/dev/null
fail=0
for build in /lib/modules/*/build; do
	k=$(basename "$(dirname "$build")")
	mkdir -p "$work/inst/$k"
	if ! dkms build -m mutex_proxy -v "$version" -k "$k" "${trees[@]}" >"$work/log" 2>&1 ||
		! dkms install -m mutex_proxy -v "$version" -k "$k" "${trees[@]}" \
			--installtree "$work/inst" --no-depmod >>"$work/log" 2>&1; then
		cat "$work/log"; echo "FAIL $k: dkms build/install failed"; fail=1; continue
	fi
	case $(grep -E '^CONFIG_MODULE_COMPRESS_(NONE|GZIP|XZ|ZSTD)=y' "$build/.config" 2>/dev/null) in
	*GZIP*) ext=.ko.gz ;; *XZ*) ext=.ko.xz ;; *ZSTD*) ext=.ko.zst ;; *) ext=.ko ;;
	esac
	ko=$work/inst/$k/updates/dkms/mutex_proxy$ext
	if [ ! -f "$ko" ]; then
		echo "FAIL $k: expected $ko; installed: $(find "$work/inst/$k" -type f)"; fail=1; continue
	fi
	magic=$(modinfo -F vermagic "$ko") ver=$(modinfo -F version "$ko")
	if [ "${magic%% *}" != "$k" ] || [ "$ver" != "$version" ]; then
		echo "FAIL $k: vermagic '$magic', version '$ver'"; fail=1; continue
	fi
	echo "ok $k: $(basename "$ko") version $ver"
done
exit $fail
