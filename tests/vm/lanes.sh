# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Kernel lanes of the VM test harness. Source this file, then:
#   lane_release  LANE   kernel release (uname -r inside the VM)
#   lane_kernel   LANE   kernel image to boot
#   lane_builddir LANE   kernel build dir for out-of-tree modules (make -C DIR M=...)
#   lane_moddir   LANE   /lib/modules/<release> of a stock lane (empty for debug)
# LANE is one of:
#   6.1    newest installed Debian 6.1.*-amd64 kernel (linux-image-amd64)
#   6.12   newest installed Debian 6.12.*-amd64 kernel (linux-image-6.12-amd64)
#   debug  the debug kernel built by tests/vm/debug-kernel.sh from linux-source-6.1
# Nothing is pinned: versions are read from /lib/modules and the debug-kernel cache.
# Each function prints its answer on stdout, or a message on stderr and returns 1.

MUTEX_VM_DIR=${MUTEX_VM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
MUTEX_CACHE=${MUTEX_CACHE:-/var/cache/mutex_proxy}
DEBUG_KERNEL_FRAGMENT=$MUTEX_VM_DIR/debug.config
DEBUG_KERNEL_SOURCE_PKG=linux-source-6.1
# shellcheck disable=SC2034 # used by debug-kernel.sh
DEBUG_KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
# Bump when debug-kernel.sh changes how the kernel is built (not for fragment changes: the
# fragment is hashed into the key already).
DEBUG_KERNEL_RECIPE=1

# Key of the debug kernel cache: the fragment, the source package's version, the compiler
# (an out-of-tree module must be built with the compiler of its kernel) and the recipe.
debug_kernel_key() {
	local ver gccver
	ver=$(dpkg-query -W -f='${Version}' "$DEBUG_KERNEL_SOURCE_PKG" 2>/dev/null) || {
		echo "lanes: $DEBUG_KERNEL_SOURCE_PKG is not installed (run tests/setup.sh)" >&2
		return 1
	}
	gccver=$(gcc -dumpfullversion 2>/dev/null || echo none)
	{
		cat "$DEBUG_KERNEL_FRAGMENT"
		echo "pkg=$DEBUG_KERNEL_SOURCE_PKG $ver gcc=$gccver recipe=$DEBUG_KERNEL_RECIPE"
	} | sha256sum | cut -c1-16
}

debug_kernel_dir() {
	local key
	key=$(debug_kernel_key) || return 1
	echo "$MUTEX_CACHE/debug-kernel/$key"
}

# Newest installed release under /lib/modules matching an extended regex, with a kernel image.
_lane_newest() {
	local re=$1 d r best=''
	for r in $(for d in /lib/modules/*/; do d=${d%/}; echo "${d##*/}"; done | grep -E "$re" | sort -V); do
		[ -e "/boot/vmlinuz-$r" ] && best=$r
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

_lane_debug_ready() {
	local d
	d=$(debug_kernel_dir) || return 1
	if [ ! -e "$d/.complete" ]; then
		echo "lanes: the debug kernel is not built yet ($d); run tests/vm/debug-kernel.sh" >&2
		return 1
	fi
	echo "$d"
}

lane_release() {
	local d
	case "${1:-}" in
	6.1) _lane_newest '^6\.1\.[0-9]+-[0-9]+-amd64$' ||
		{ echo "lanes: no 6.1.*-amd64 kernel installed (linux-image-amd64)" >&2; return 1; } ;;
	6.12) _lane_newest '^6\.12\.[0-9].*-amd64$' ||
		{ echo "lanes: no 6.12.*-amd64 kernel installed (linux-image-6.12-amd64)" >&2; return 1; } ;;
	debug) d=$(_lane_debug_ready) || return 1; cat "$d/release" ;;
	*) echo "lanes: unknown lane '${1:-}' (6.1, 6.12 or debug)" >&2; return 1 ;;
	esac
}

lane_kernel() {
	local r d
	case "${1:-}" in
	6.1 | 6.12) r=$(lane_release "$1") || return 1; echo "/boot/vmlinuz-$r" ;;
	debug) d=$(_lane_debug_ready) || return 1; echo "$d/bzImage" ;;
	*) lane_release "${1:-}" ;;
	esac
}

lane_builddir() {
	local r d
	case "${1:-}" in
	6.1 | 6.12)
		r=$(lane_release "$1") || return 1
		if [ ! -e "/lib/modules/$r/build/Makefile" ]; then
			echo "lanes: no headers for $r (/lib/modules/$r/build); install linux-headers-$r" >&2
			return 1
		fi
		echo "/lib/modules/$r/build"
		;;
	debug) d=$(_lane_debug_ready) || return 1; echo "$d/linux" ;;
	*) lane_release "${1:-}" ;;
	esac
}

lane_moddir() {
	local r
	case "${1:-}" in
	6.1 | 6.12) r=$(lane_release "$1") || return 1; echo "/lib/modules/$r" ;;
	debug) echo "" ;;
	*) lane_release "${1:-}" ;;
	esac
}
