#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs one command as root inside a VM booted with one of the harness's kernels:
#
#   tests/vm/vm-run.sh --lane {6.1|6.12|debug} [options] -- COMMAND [ARGS...]
#
# The VM (qemu-system-x86_64, TCG) sees the host's root read-only over 9p, with tmpfs on /run
# and /dev/shm, and /tmp and /var/tmp overlaid with tmpfs (the host's files there are visible,
# writes are discarded with the VM). The command runs in the caller's cwd with the caller's PATH,
# HOME, LANG/LC_ALL/TZ/TERM/CI, every MUTEX_* variable and any --env, plus VM_LANE,
# VM_KERNEL_RELEASE and VM_OUTDIR (a writable directory whose files --outdir copies out).
# Its stdout and stderr come back through a writable 9p share and are copied to ours as they come.
#
# Options:
#   --lane L          6.1, 6.12 or debug (see lanes.sh)            (required)
#   --timeout S       kill the VM after S seconds (default 300, or $VM_TIMEOUT)
#   --smp N           CPUs (default 2)        --mem MB     memory (default 2048)
#   --append STR      extra kernel command line
#   --systemd         systemd is PID 1 (over an overlay of the host root and a tmpfs) and runs the
#                     command as mutex-vm.service (initramfs-init.sh)
#   --qemu-args STR   extra qemu arguments, split on blanks (e.g. "-icount shift=3,sleep=off")
#   --env NAME=VALUE  extra environment for the command (repeatable)
#   --outdir DIR      copy the files the command wrote to $VM_OUTDIR into DIR
#   --log FILE        also keep the console log in FILE and the final dmesg in FILE.dmesg
#                     (or $VM_LOG); --keep keeps the whole run directory (or VM_KEEP=1)
#   --no-kmemleak     debug lane: skip the kmemleak scans after the command (they take about
#                     2 x 11 s with 2048 MB; use only where leaks are checked otherwise)
#   --quiet           no summary line on stderr
#   --mttcg           one host thread per vCPU (qemu's multi-threaded TCG); the default is one
#                     thread for all vCPUs, which a kernel's text patching cannot race (see
#                     README.md, "Netfilter hooks stay pinned")
#
# Exit status: the command's own status when the kernel reported nothing; otherwise
#   124  the VM did not finish within --timeout
#   125  the kernel reported a problem: WARN (panic_on_warn=1 ends the VM), BUG, Oops, panic,
#        KASAN, UBSAN, lockdep, RCU, debugobjects, sleep-in-atomic, or a kmemleak leak (debug lane)
#   126  the VM failed otherwise (qemu error, boot failure, no exit status came back)
# On any failure the run directory (console.log, dmesg, the command's output) is kept and its
# path printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lanes.sh
. "$here/lanes.sh"

EXIT_TIMEOUT=124 EXIT_REPORT=125 EXIT_VM=126

usage() { awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0" >&2; exit 2; }
msg() { echo "vm-run: $*" >&2; }

lane='' timeout=${VM_TIMEOUT:-300} smp=2 mem=2048 append='' outdir='' logfile=${VM_LOG:-}
keep=${VM_KEEP:-0} quiet=0 envs=() kmemleak=1 qemu_extra=() tcg_thread=single
while (($#)); do
	case "$1" in
	--lane) lane=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--qemu-args) read -r -a more <<<"$2"; qemu_extra+=("${more[@]}"); shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--outdir) outdir=$2; shift 2 ;;
	--log) logfile=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--quiet) quiet=1; shift ;;
	--no-kmemleak) kmemleak=0; shift ;;
	--mttcg) tcg_thread=multi; shift ;;
	--systemd) append+=" mutex_vm.init=systemd"; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) msg "unknown option $1"; usage ;;
	esac
done
(($#)) || { msg "no command given"; usage; }
[ -n "$lane" ] || { msg "--lane is required"; usage; }
[[ $timeout =~ ^[0-9]+$ && $smp =~ ^[0-9]+$ && $mem =~ ^[0-9]+$ ]] || { msg "--timeout/--smp/--mem take numbers"; exit 2; }

if [ "$lane" = debug ] && ! lane_release debug >/dev/null 2>&1; then
	msg "the debug kernel is not cached yet: building it (about 10 min, once per machine)"
	"$here/debug-kernel.sh" >&2 || exit $EXIT_VM
fi
release=$(lane_release "$lane") || exit $EXIT_VM
kernel=$(lane_kernel "$lane") || exit $EXIT_VM
moddir=$(lane_moddir "$lane") || exit $EXIT_VM

# --- initramfs: busybox + the lane's 9p/virtio modules, cached per lane ---------------------
initramfs_for_lane() {
	local mods=() m f key seen=" " dir out tmp
	if [ -n "$moddir" ]; then
		while read -r kind path _; do
			[ "$kind" = insmod ] || continue
			case "$seen" in *" $path "*) continue ;; esac
			seen+="$path "
			mods+=("$path")
		done < <(modprobe -a -S "$release" --show-depends virtio_pci 9pnet_virtio 9p overlay)
		((${#mods[@]})) || { msg "no 9p modules found for $release"; return 1; }
	fi
	key=$({
		cat "$here/initramfs-init.sh"
		sha256sum /bin/busybox
		stat -c '%n %s %Y' "$kernel"
		for m in "${mods[@]}"; do sha256sum "$m"; done
	} | sha256sum | cut -c1-16)
	dir=$MUTEX_CACHE/initramfs
	out=$dir/$lane-$release-$key.cpio.gz
	if [ -s "$out" ]; then echo "$out"; return 0; fi
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.build.XXXXXX")
	(
		set -e
		cd "$tmp"
		mkdir -p root/bin root/dev root/proc root/sys root/newroot root/lib/modules
		cp /bin/busybox root/bin/busybox
		for a in sh mount insmod mkdir usleep sleep switch_root poweroff cat; do
			ln -s busybox "root/bin/$a"
		done
		mknod root/dev/console c 5 1
		install -m 0755 "$here/initramfs-init.sh" root/init
		: >root/modules.list
		for m in "${mods[@]}"; do
			f=$(basename "$m")
			case "$f" in
			*.ko.xz) xz -dc "$m" >"root/lib/modules/${f%.xz}"; f=${f%.xz} ;;
			*.ko.zst) zstd -qdc "$m" >"root/lib/modules/${f%.zst}"; f=${f%.zst} ;;
			*.ko.gz) gzip -dc "$m" >"root/lib/modules/${f%.gz}"; f=${f%.gz} ;;
			*) cp "$m" "root/lib/modules/$f" ;;
			esac
			echo "$f" >>root/modules.list
		done
		(cd root && find . -print0 | cpio --null -o -H newc --quiet) | gzip -9 >initramfs.cpio.gz
	) || { rm -rf "$tmp"; msg "building the initramfs failed"; return 1; }
	for f in "$dir/$lane-"*.cpio.gz; do [ "$f" = "$out" ] || rm -f "$f"; done
	mv "$tmp/initramfs.cpio.gz" "$out"
	rm -rf "$tmp"
	msg "built initramfs $out (${#mods[@]} modules)"
	echo "$out"
}
initramfs=$(initramfs_for_lane) || exit $EXIT_VM

# --- the run directory: writable share + logs ------------------------------------------------
rundir=$(mktemp -d "${TMPDIR:-/tmp}/mutex-vm.$lane.XXXXXX")
share=$rundir/share
mkdir -p "$share/out"
console=$rundir/console.log
qpid=
cleanup() {
	local rc=$?
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	if [ "$keep" != 1 ] && [ "$rc" = 0 ]; then rm -rf "$rundir"; fi
}
trap cleanup EXIT
trap 'msg "interrupted"; exit 130' INT TERM HUP

q() { printf '%q' "$1"; }
{
	echo "VM_CWD='${PWD//\'/\'\\\'\'}'"
	echo "VM_LANE=$lane"
	echo "VM_KMEMLEAK_CLEAR=${VM_KMEMLEAK_CLEAR:-0}"
	echo "VM_KMEMLEAK=$([ "$lane" = debug ] && [ "$kmemleak" = 1 ] && echo 1 || echo 0)"
} >"$share/run.conf"
{
	echo "cd $(q "$PWD") || exit 126"
	echo "unset \$(compgen -e)"
	for v in PATH HOME LANG LC_ALL TZ TERM CI $(compgen -e | grep -E '^MUTEX_' || true); do
		[ -n "${!v+x}" ] && echo "export $v=$(q "${!v}")"
	done
	[ -n "${HOME+x}" ] || echo "export HOME=/root"
	echo "export VM_LANE=$(q "$lane") VM_KERNEL_RELEASE=$(q "$release") VM_OUTDIR=/run/mutex-vm/out"
	for e in "${envs[@]}"; do
		[[ $e == [A-Za-z_]*=* ]] || { msg "--env takes NAME=VALUE, not '$e'"; exit 2; }
		echo "export ${e%%=*}=$(q "${e#*=}")"
	done
	printf 'exec'
	for a in "$@"; do printf ' %q' "$a"; done
	echo
} >"$share/cmd.sh"
cp "$here/guest.sh" "$share/guest.sh"
: >"$share/stdout"
: >"$share/stderr"

cmdline="console=ttyS0 panic=-1 panic_on_warn=1 oops=panic printk.devkmsg=on log_buf_len=8M"
# The debug kernel has ACPI to find its second CPU (debug.config); routing PCI interrupts through
# ACPI there stalls its boot by 20 s per virtio device under TCG, the MP table's routing does not.
[ "$lane" != debug ] || cmdline+=" acpi=noirq"
[ -z "$append" ] || cmdline+=" $append"

# --- boot ------------------------------------------------------------------------------------
t0=$(date +%s.%N)
timeout -k 5 "$timeout" qemu-system-x86_64 \
	-machine pc -accel "tcg,thread=$tcg_thread" -m "$mem" -smp "$smp" -nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$initramfs" -append "$cmdline" \
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap" \
	-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot" \
	-fsdev "local,id=vmshare,path=$share,security_model=none,multidevs=remap" \
	-device "virtio-9p-pci,fsdev=vmshare,mount_tag=vmshare" \
	"${qemu_extra[@]}" </dev/null >"$console" 2>"$rundir/qemu.err" &
qpid=$!
tail -q -s 0.2 --pid="$qpid" -n +1 -f "$share/stdout" &
tailout=$!
tail -q -s 0.2 --pid="$qpid" -n +1 -f "$share/stderr" >&2 &
tailerr=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=
wait "$tailout" "$tailerr" 2>/dev/null || true
t1=$(date +%s.%N)

# --- verdict ---------------------------------------------------------------------------------
# Kernel reports: the patterns, minus boot banners that merely contain one of the words.
report_re='WARNING:|BUG:|Oops|Kernel panic|general protection fault|KASAN|UBSAN|ODEBUG:|possible recursive locking|circular locking|suspicious RCU usage|inconsistent lock state|sleeping function called from invalid context|kmemleak|list_add corruption|list_del corruption|refcount_t:'
benign_re='kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic memory scanning thread started|Kernel command line:|Command line:|kmemleak: Not scanning unknown|sysrq: Resetting'
kernlog=$share/dmesg
[ -s "$kernlog" ] || kernlog=$console
reports=$(grep -aE "$report_re" "$kernlog" | grep -avE "$benign_re" || true)
leaks=
if [ -s "$share/kmemleak" ]; then leaks=$(grep -a -m1 -c 'unreferenced object' "$share/kmemleak" || true); fi

status=
[ -s "$share/status" ] && status=$(cat "$share/status")
boot=
[ -e "$share/started" ] && boot=$(awk -v a="$t0" -v b="$(stat -c %.9Y "$share/started")" 'BEGIN{printf "%.1f", b-a}')
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')

rc=
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	msg "TIMEOUT: the VM ($lane, $release) did not finish within $timeout s; qemu killed"
	# guest.py names each case before it runs it ("... NAME")
	running=$(grep -a '^\.\.\. ' "$share/stdout" | tail -1 | cut -c5- || true)
	[ -z "$running" ] || msg "the case running then: $running"
	[ -z "$reports" ] || { msg "kernel reports before the timeout:"; echo "$reports" | head -40 >&2; }
	rc=$EXIT_TIMEOUT
elif [ -n "$reports" ] || [ "${leaks:-0}" != 0 ] || [ -e "$share/kmemleak-missing" ]; then
	msg "KERNEL REPORT on lane $lane ($release):"
	if [ -n "$reports" ]; then
		echo "$reports" | head -40 | sed 's/^/  /' >&2
		msg "the first report in context ($(basename "$kernlog")):"
		first=$(echo "$reports" | head -1)
		grep -aF -A25 -m1 -- "$first" "$kernlog" | sed 's/^/  | /' >&2 || true
	fi
	if [ "${leaks:-0}" != 0 ]; then
		msg "kmemleak found leaks:"
		head -60 "$share/kmemleak" | sed 's/^/  /' >&2
	fi
	[ ! -e "$share/kmemleak-missing" ] || msg "$(cat "$share/kmemleak-missing")"
	[ -z "$status" ] || msg "(the command itself exited with $status)"
	[ -n "$status" ] || msg "the VM ended before the command finished (panic_on_warn/oops=panic)"
	rc=$EXIT_REPORT
elif [ -z "$status" ]; then
	msg "the VM ($lane, $release) ended without the command's exit status (qemu exit $qrc)"
	tail -5 "$rundir/qemu.err" 2>/dev/null | sed 's/^/  qemu: /' >&2
	tail -25 "$console" | sed 's/^/  console: /' >&2
	rc=$EXIT_VM
else
	rc=$status
fi

[ -z "$outdir" ] || { mkdir -p "$outdir" && cp -a "$share/out/." "$outdir/"; }
if [ -n "$logfile" ]; then
	cp "$console" "$logfile"
	[ ! -e "$share/dmesg" ] || cp "$share/dmesg" "$logfile.dmesg"
fi
if [ "$quiet" != 1 ]; then
	msg "lane $lane ($release): exit ${status:-none}, boot ${boot:-?} s, wall $wall s"
fi
if [ "$rc" != 0 ] && { [ "$rc" -ge 124 ] && [ "$rc" -le 126 ] || [ -z "$status" ]; }; then
	keep=1
	msg "logs kept in $rundir (console.log, share/dmesg, share/stdout, share/stderr)"
elif [ "$rc" != 0 ]; then
	keep=1
	msg "console log: $console"
fi
exit "$rc"
