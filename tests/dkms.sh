#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks the DKMS package the way an operator gets it: the build's install step puts the module's
# sources into a throwaway root (DESTDIR=... cmake --install BUILD --component dkms), which must
# hold exactly Kbuild, dkms.conf (with the project's version and the supported kernel range), the
# sources and headers of kmod/ and the UAPI header; then `dkms add`, `dkms build` and
# `dkms install` for every kernel with headers in /lib/modules, into throwaway DKMS and install
# trees (the host's /lib/modules and /var/lib/dkms are not touched). Asserts that each kernel gets
# updates/dkms/mutex_proxy.ko compressed the way that kernel compresses its own modules, built
# for that kernel (vermagic), carrying the project's version, signed with DKMS's MOK key where
# the kernel checks signatures, and that `modinfo -k` finds it there once depmod has run.
# Usage: tests/dkms.sh BUILD_DIR [--kernel RELEASE] [--keep DIR]
#   BUILD_DIR        a configured CMake build directory
#   --kernel RELEASE only this kernel (default: every one with headers)
#   --keep DIR       keep the installed modules in DIR/lib/modules/RELEASE/updates/dkms/ (the VM
#                    lanes load them with modprobe: tests/vm/test_dkms.py)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: $0 BUILD_DIR [--kernel RELEASE] [--keep DIR]" >&2; exit 2; }
[ $# -ge 1 ] && [ -f "$1/CMakeCache.txt" ] || usage
build=$1
shift
only='' keep=''
while (($#)); do
	case "$1" in
	--kernel) only=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	*) usage ;;
	esac
done
work=$(mktemp -d /tmp/mutex-dkms.XXXXXX)
trap 'rm -rf "$work"' EXIT

DESTDIR=$work/root cmake --install "$build" --component dkms >/dev/null
srcs=("$work"/root/usr/src/mutex_proxy-*)
[ ${#srcs[@]} -eq 1 ] && [ -d "${srcs[0]}" ] || { echo "FAIL: no /usr/src/mutex_proxy-VERSION installed"; exit 1; }
src=${srcs[0]}
version=${src##*/mutex_proxy-}
fail=0
conf_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
module_version=$(sed -n 's/^#define MUTEX_PROXY_VERSION[[:space:]]*"\(.*\)"/\1/p' "$top/kmod/mutex_proxy.h")
if [ "$conf_version" != "$version" ] || [ "$module_version" != "$version" ]; then
	echo "FAIL: versions differ: tree $version, dkms.conf $conf_version, module $module_version"; fail=1
fi
# Exactly the module's sources: what the checkout has in kmod/ (C and headers, not the benchmark
# build's measurements, not the scripts), Kbuild, dkms.conf and the UAPI header.
expected=$({
	echo Kbuild; echo dkms.conf; echo include/uapi/linux/mutex_proxy.h
	(cd "$top" && find kmod -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \) ! -name bench.c)
} | sort)
actual=$(cd "$src" && find . -type f | sed 's|^\./||' | sort)
if [ "$expected" != "$actual" ]; then
	echo "FAIL: the DKMS tree is not exactly the module's sources:"
	diff <(echo "$expected") <(echo "$actual") || true
	fail=1
else
	echo "ok: the DKMS tree holds the module's sources only ($(echo "$actual" | wc -l) files), version $version"
fi
grep -q '^BUILD_EXCLUSIVE_KERNEL=' "$src/dkms.conf" || { echo "FAIL: dkms.conf has no BUILD_EXCLUSIVE_KERNEL"; fail=1; }

mkdir -p "$work/tree"
trees=(--sourcetree "$work/root/usr/src" --dkmstree "$work/tree")
dkms add -m mutex_proxy -v "$version" "${trees[@]}" >/dev/null
kbuilds=(/lib/modules/*/build)
[ -z "$only" ] || kbuilds=("/lib/modules/$only/build")
for kbuild in "${kbuilds[@]}"; do
	k=$(basename "$(dirname "$kbuild")")
	[ -d "$kbuild" ] || { echo "FAIL $k: no headers at $kbuild"; fail=1; continue; }
	mkdir -p "$work/mods/lib/modules/$k"
	if ! dkms build -m mutex_proxy -v "$version" -k "$k" "${trees[@]}" >"$work/log" 2>&1 ||
		! dkms install -m mutex_proxy -v "$version" -k "$k" "${trees[@]}" \
			--installtree "$work/mods/lib/modules" --no-depmod >>"$work/log" 2>&1; then
		cat "$work/log"; echo "FAIL $k: dkms build/install failed"; fail=1; continue
	fi
	case $(grep -E '^CONFIG_MODULE_COMPRESS_(NONE|GZIP|XZ|ZSTD)=y' "$kbuild/.config" 2>/dev/null) in
	*GZIP*) ext=.ko.gz ;; *XZ*) ext=.ko.xz ;; *ZSTD*) ext=.ko.zst ;; *) ext=.ko ;;
	esac
	ko=$work/mods/lib/modules/$k/updates/dkms/mutex_proxy$ext
	if [ ! -f "$ko" ]; then
		echo "FAIL $k: expected $ko; installed: $(find "$work/mods/lib/modules/$k" -type f)"; fail=1; continue
	fi
	magic=$(modinfo -F vermagic "$ko") ver=$(modinfo -F version "$ko")
	if [ "${magic%% *}" != "$k" ] || [ "$ver" != "$version" ]; then
		echo "FAIL $k: vermagic '$magic', version '$ver'"; fail=1; continue
	fi
	# Signed where the kernel checks signatures, with the key Debian's DKMS keeps (and creates
	# at its first build, as on any node) in /var/lib/dkms/mok.key: the key an operator enrols.
	if grep -q '^CONFIG_MODULE_SIG=y' "$kbuild/.config" 2>/dev/null; then
		signer=$(modinfo -F signer "$ko")
		if [ "$signer" != "DKMS module signing key" ]; then
			echo "FAIL $k: the kernel checks module signatures, the module's signer is '$signer'"; fail=1; continue
		fi
	fi
	# What modprobe would find: depmod over that tree, then modinfo -k by name.
	depmod -b "$work/mods" -a "$k" 2>"$work/depmod.log" || { cat "$work/depmod.log"; echo "FAIL $k: depmod"; fail=1; continue; }
	found=$(modinfo -b "$work/mods" -k "$k" -F filename mutex_proxy 2>/dev/null || true)
	if [ "$found" != "$ko" ]; then
		echo "FAIL $k: modinfo -k $k mutex_proxy found '$found'"; fail=1; continue
	fi
	echo "ok $k: $(basename "$ko") version $ver, found by modinfo -k"
	if [ -n "$keep" ]; then
		rm -rf "$keep/lib/modules/$k"
		mkdir -p "$keep/lib/modules/$k/updates/dkms"
		cp "$ko" "$keep/lib/modules/$k/updates/dkms/"
	fi
done
exit $fail
