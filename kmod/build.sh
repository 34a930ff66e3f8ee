#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmod/build.sh KDIR OUTDIR [make args...]
#
# Builds mutex_proxy.ko (and mutex_proxy_kunit.ko when KDIR's kernel has
# CONFIG_KUNIT) against the kernel build tree KDIR, out of a fresh copy of
# Kbuild, kmod/, include/ and tests/kunit/ in OUTDIR, so builds for several
# kernels can run side by side and the checkout stays clean. Always passes
# W=1; extra arguments go to make (e.g. C=2 to run sparse on every file).
#
# Exit status is non-zero if make fails, if the log holds any compiler,
# sparse or modpost warning, or if an expected module is missing. The log is
# OUTDIR/build.log.
set -euo pipefail

usage() {
	echo "usage: $0 KDIR OUTDIR [make args...]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
kdir=$1
outdir=$2
shift 2

src=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$kdir/Makefile" ] || { echo "$0: $kdir is not a kernel build tree" >&2; exit 2; }
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
if [ "$outdir" = "$src" ]; then
	echo "$0: OUTDIR must not be the source tree" >&2
	exit 2
fi

# Fresh copy of the sources (old objects go with them: a full rebuild
# takes seconds and never mixes files of two source states).
rm -rf "$outdir/Kbuild" "$outdir/kmod" "$outdir/include" "$outdir/tests"
mkdir -p "$outdir/tests"
cp -a "$src/Kbuild" "$src/kmod" "$src/include" "$outdir/"
cp -a "$src/tests/kunit" "$outdir/tests/"

log=$outdir/build.log
rc=0
make -C "$kdir" M="$outdir" W=1 "$@" >"$log" 2>&1 || rc=$?
cat "$log"

if [ "$rc" -ne 0 ]; then
	echo "$0: make failed (exit $rc)" >&2
	exit 1
fi
if grep -Eq 'warning:|WARNING:|error:' "$log"; then
	echo "$0: build produced warnings:" >&2
	grep -E 'warning:|WARNING:|error:' "$log" >&2
	exit 1
fi

expect=(mutex_proxy.ko)
if grep -Eq '^CONFIG_KUNIT=(y|m)$' "$kdir/.config" 2>/dev/null; then
	expect+=(mutex_proxy_kunit.ko)
fi
for ko in "${expect[@]}"; do
	if [ ! -f "$outdir/$ko" ]; then
		echo "$0: $outdir/$ko was not built" >&2
		exit 1
	fi
done
echo "$0: built ${expect[*]} in $outdir against $kdir"
