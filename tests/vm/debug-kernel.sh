#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the debug kernel of the VM test harness once and caches it outside the checkout:
#   /var/cache/mutex_proxy/debug-kernel/<key>/
#     linux/      configured and fully built source tree: the build dir for out-of-tree
#                 modules (make -C .../linux M=$PWD), with Module.symvers
#     bzImage     the kernel the "debug" lane boots
#     release     its `uname -r`
#     .complete   written last; a directory without it is a half-built cache and is redone
# key = sha256(tests/vm/debug.config, linux-source-6.1's version, gcc's version, recipe)[:16]
# (see debug_kernel_key in lanes.sh). Idempotent: returns at once when the cache is complete.
# Config: allnoconfig + merge_config.sh -m debug.config + olddefconfig, then every symbol of
# the fragment is checked in .config and the build fails loudly on any that did not stick.
# Options: --print-dir (print the cache dir and exit), --config-only (stop after checking the
# configuration; for editing the fragment).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lanes.sh
. "$here/lanes.sh"

mode=build
case "${1:-}" in
--print-dir) debug_kernel_dir; exit 0 ;;
--config-only) mode=config ;;
"") ;;
*) echo "usage: $0 [--print-dir|--config-only]" >&2; exit 2 ;;
esac

jobs=${DEBUG_KERNEL_JOBS:-3}
top=$MUTEX_CACHE/debug-kernel
dir=$(debug_kernel_dir)
log() { echo "debug-kernel: $*" >&2; }

if [ -e "$dir/.complete" ]; then
	log "cached: $dir ($(cat "$dir/release"))"
	exit 0
fi
[ -r "$DEBUG_KERNEL_TARBALL" ] || { log "missing $DEBUG_KERNEL_TARBALL (apt-get install $DEBUG_KERNEL_SOURCE_PKG)"; exit 1; }

mkdir -p "$top"
exec 9>"$top/.lock"
if ! flock -n 9; then
	log "another build holds $top/.lock; waiting for it"
	flock 9
fi
if [ -e "$dir/.complete" ]; then
	log "cached: $dir ($(cat "$dir/release")) (built by the other run)"
	exit 0
fi

# Under the lock, any directory without a stamp is left over from an interrupted or failed run.
for d in "$top"/*/; do
	d=${d%/}
	[ -d "$d" ] && [ ! -e "$d/.complete" ] || continue
	log "removing incomplete build $d"
	rm -rf "$d"
done

start=$(date +%s)
# Where the build's time goes, logged and kept in build-info: "phase seconds" per step.
phases=()
mark=$start
phase() {
	local now
	now=$(date +%s)
	phases+=("$1=$((now - mark))")
	mark=$now
}
mkdir -p "$dir"
log "building into $dir (fragment $DEBUG_KERNEL_FRAGMENT, $(dpkg-query -W -f='${Package} ${Version}' "$DEBUG_KERNEL_SOURCE_PKG"), -j$jobs)"
log "extracting $DEBUG_KERNEL_TARBALL"
mkdir "$dir/linux"
tar -xJf "$DEBUG_KERNEL_TARBALL" -C "$dir/linux" --strip-components=1
cp "$DEBUG_KERNEL_FRAGMENT" "$dir/debug.config"
phase extract

cd "$dir/linux"
log "configuring"
make -s allnoconfig >/dev/null
scripts/kconfig/merge_config.sh -m .config "$dir/debug.config" >"$dir/merge_config.log" 2>&1 || {
	cat "$dir/merge_config.log" >&2
	exit 1
}
make -s olddefconfig >/dev/null

# Every symbol the fragment names must have the fragment's value in the final .config.
bad=()
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		sym=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		sym=${BASH_REMATCH[1]} want=n
	else
		continue
	fi
	got=$(grep -E "^$sym=|^# $sym is not set$" .config || true)
	case "$got" in
	"$sym="*) got=${got#"$sym="} ;;
	"# $sym is not set") got=n ;;
	*) got="(absent)" ;;
	esac
	[ "$got" = "$want" ] || bad+=("$sym: requested $want, got $got")
done <"$dir/debug.config"
# No modules exist for this kernel except ours: nothing may be =m.
mapfile -t mods < <(grep -E '^CONFIG_[A-Za-z0-9_]+=m$' .config || true)
if ((${#bad[@]})) || ((${#mods[@]})); then
	log "FAILED: the configuration does not match tests/vm/debug.config:"
	for b in "${bad[@]}"; do echo "  $b" >&2; done
	for m in "${mods[@]}"; do echo "  $m (set it =y in the fragment: no module but ours is loaded)" >&2; done
	log "merge_config output: $dir/merge_config.log"
	exit 1
fi
phase configure
log "configuration verified: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$dir/debug.config") requested symbols set"
if [ "$mode" = config ]; then
	log "--config-only: stopping before the build (cache stays incomplete)"
	exit 0
fi

log "make -j$jobs bzImage"
make -s -j"$jobs" bzImage
phase bzImage
log "make -j$jobs (vmlinux, Module.symvers)"
make -s -j"$jobs"
make -s modules_prepare
[ -s Module.symvers ] || { log "FAILED: no Module.symvers"; exit 1; }
phase vmlinux
cp arch/x86/boot/bzImage "$dir/bzImage"
make -s kernelrelease >"$dir/release"
end=$(date +%s)
{
	echo "build_seconds=$((end - start))"
	printf 'phase_seconds_%s\n' "${phases[@]}"
} >"$dir/build-info"
echo "built=$(date -u +%FT%TZ)" >>"$dir/build-info"
touch "$dir/.complete"
log "done in $(((end - start) / 60)) min $(((end - start) % 60)) s: $dir ($(cat "$dir/release")); seconds by phase: ${phases[*]}"
