#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmod/checkpatch.sh [FILE...]
#
# Runs the kernel's checkpatch.pl --strict --no-tree -f on every C source and
# header of the module and of the KUnit tests (or on the FILEs given). Exit
# status is non-zero if checkpatch reports any error, warning or check.
#
# checkpatch.pl is taken from $CHECKPATCH if set, else from an unpacked
# kernel tree under /usr/src, else unpacked (with the spelling and
# const_structs lists it reads) from /usr/src/linux-source-*.tar.xz into
# ${XDG_CACHE_HOME:-~/.cache}/mutex_proxy/checkpatch.
#
# Deliberate exception: kmod/compat.h is checked with
# --ignore LINUX_VERSION_CODE. It is the one place allowed to test the
# kernel version (6.13 changed symbol namespaces from identifiers to strings,
# which no macro reveals); every other file is checked without exceptions.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)

find_checkpatch() {
	local f tarball cache top

	if [ -n "${CHECKPATCH:-}" ]; then
		echo "$CHECKPATCH"
		return
	fi
	for f in /usr/src/linux-headers-*/scripts/checkpatch.pl \
		 /usr/src/linux-source-*/scripts/checkpatch.pl; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/mutex_proxy/checkpatch
	for tarball in /usr/src/linux-source-*.tar.xz; do
		[ -f "$tarball" ] || continue
		top=$(basename "$tarball" .tar.xz)
		f=$cache/$top/scripts/checkpatch.pl
		if [ ! -f "$f" ]; then
			mkdir -p "$cache"
			tar -xJf "$tarball" -C "$cache" \
				"$top/scripts/checkpatch.pl" \
				"$top/scripts/spelling.txt" \
				"$top/scripts/const_structs.checkpatch" >&2
		fi
		echo "$f"
		return
	done
	echo "$0: no checkpatch.pl found; set CHECKPATCH=/path/to/checkpatch.pl" >&2
	exit 2
}

checkpatch=$(find_checkpatch)

if [ $# -gt 0 ]; then
	files=("$@")
else
	mapfile -t files < <(cd "$src" && ls kmod/*.[ch] tests/kunit/*.[ch] 2>/dev/null)
fi

rc=0
for f in "${files[@]}"; do
	path=$f
	[ -e "$path" ] || path=$src/$f
	extra=()
	case "$path" in
	kmod/compat.h | */kmod/compat.h) extra=(--ignore LINUX_VERSION_CODE) ;;
	esac
	if ! perl "$checkpatch" --strict --no-tree --show-types --quiet \
		"${extra[@]}" -f "$path"; then
		rc=1
	fi
done

if [ "$rc" -eq 0 ]; then
	echo "checkpatch --strict: ${#files[@]} files, no errors, warnings or checks"
fi
exit "$rc"
