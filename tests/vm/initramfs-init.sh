#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the VM harness's initramfs (busybox). Loads the lane's 9p/virtio modules (listed in
# /modules.list, in dependency order; none for the debug lane), mounts the host's root read-only
# over 9p (tag hostroot) and the run's writable share (tag vmshare) on /run/mutex-vm in it, then
# switch_root's into the host root and runs /run/mutex-vm/guest.sh (written by vm-run.sh) as PID 1.
# With mutex_vm.init=systemd on the kernel command line (vm-run.sh --systemd) the root is instead
# an overlay of the host's (the lower layer) and a tmpfs, systemd is PID 1, and guest.sh runs as
# the service mutex-vm.service, the only unit asked for (systemd.unit=), with what it needs.
export PATH=/bin

die() {
	echo "vm-init: FAILED: $*"
	echo b >/proc/sysrq-trigger
	sleep 5
	poweroff -f
}

mount -t proc proc /proc || die "mount /proc"
mount -t sysfs sysfs /sys || die "mount /sys"
mount -t devtmpfs devtmpfs /dev || die "mount /dev"

while read -r m; do
	[ -n "$m" ] || continue
	insmod "/lib/modules/$m" || die "insmod $m"
done </modules.list

opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /newroot
i=0
until mount -t 9p -o "$opts,ro,cache=loose" hostroot /newroot 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "mount 9p hostroot"
	usleep 50000
done
init=guest
grep -q 'mutex_vm.init=systemd' /proc/cmdline && init=systemd
if [ "$init" = systemd ]; then
	mkdir -p /lower /upper
	mount --move /newroot /lower || die "move the host root"
	mount -t tmpfs -o mode=0755 tmpfs /upper || die "mount the upper layer"
	mkdir -p /upper/u /upper/w
	mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot ||
		die "mount the overlay root"
	mkdir -p /newroot/etc/systemd/system /newroot/etc/tmpfiles.d
	# tmpfiles' "D /tmp" would empty /tmp at boot: here that hides the host's /tmp (the caller's
	# files, the module build).
	printf 'd /tmp 1777 root root -\nd /var/tmp 1777 root root -\n' >/newroot/etc/tmpfiles.d/tmp.conf
	cat >/newroot/etc/systemd/system/mutex-vm.service <<'UNIT'
[Unit]
Description=mutex_proxy VM harness: the command, then power off
After=basic.target
[Service]
Type=oneshot
Environment=MUTEX_VM_SYSTEMD=1
ExecStart=/bin/sh /run/mutex-vm/guest.sh
StandardOutput=journal+console
UNIT
fi
mount -t tmpfs -o mode=0755 tmpfs /newroot/run || die "mount /run"
mkdir -p /newroot/run/mutex-vm
mount -t 9p -o "$opts,rw" vmshare /newroot/run/mutex-vm || die "mount 9p vmshare"
[ -r /newroot/run/mutex-vm/guest.sh ] || die "no guest.sh in the share"
for d in proc sys dev; do
	mount --move "/$d" "/newroot/$d" || die "move /$d"
done
[ "$init" = guest ] || exec switch_root /newroot /lib/systemd/systemd systemd.unit=mutex-vm.service
exec switch_root /newroot /bin/sh /run/mutex-vm/guest.sh
