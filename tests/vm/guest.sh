#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# PID 1 inside the VM after switch_root into the host's (read-only) root. vm-run.sh copies this
# file into the run's writable share (/run/mutex-vm); it reads run.conf from there, sets the
# system up, runs cmd.sh with the caller's cwd and environment, and writes the results back:
#   stdout, stderr   the command's output      status        its exit status
#   started          written when the command starts (its mtime times the boot)
#   kmemleak         kmemleak's report (debug lane)          dmesg   the kernel log at the end
# Then it reboots with sysrq (qemu runs with -no-reboot, so qemu exits).
# Under systemd (vm-run.sh --systemd) it runs as mutex-vm.service instead, on a system systemd has
# set up: only what systemd does not do is done here.
S=/run/mutex-vm
exec </dev/null

finish() {
	dmesg >"$S/dmesg" 2>&1
	sync
	echo b >/proc/sysrq-trigger
	sleep 10
}

. "$S/run.conf" || { echo "vm-guest: cannot read run.conf"; finish; }

if [ -z "${MUTEX_VM_SYSTEMD:-}" ]; then
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	ln -sf /proc/self/fd /dev/fd 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null
	# Writable scratch over the read-only host root: /tmp and /var/tmp are overlays of the host's
	# directory (so files the caller made there are visible) with a tmpfs upper layer; plain tmpfs
	# if overlayfs is not available.
	modprobe -q overlay 2>/dev/null
	for d in /tmp /var/tmp; do
		u=/run/mutex-ovl$d
		mkdir -p "$u/upper" "$u/work" && chmod 1777 "$u/upper"
		mount -t overlay overlay -o "lowerdir=$d,upperdir=$u/upper,workdir=$u/work" "$d" 2>/dev/null || {
			echo "vm-guest: overlayfs on $d failed; using an empty tmpfs"
			mount -t tmpfs -o mode=1777 tmpfs "$d"
		}
	done
fi
mkdir -p /run/lock /run/netns /run/user
hostname "mutex-vm"
ip link set lo up

if [ "${VM_KMEMLEAK:-0}" = 1 ] && [ "${VM_KMEMLEAK_CLEAR:-0}" = 1 ] && [ -w /sys/kernel/debug/kmemleak ]; then
	# Forget what boot left unreferenced, so that only the command's leaks are reported.
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi

cat /proc/uptime >"$S/started"
/bin/bash "$S/cmd.sh" >"$S/stdout" 2>"$S/stderr"
echo $? >"$S/status"
cat /proc/uptime >"$S/ended"

if [ "${VM_KMEMLEAK:-0}" = 1 ]; then
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak
		sleep "${VM_KMEMLEAK_WAIT:-1}"
		echo scan >/sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak >"$S/kmemleak" 2>&1
	else
		echo "kmemleak: /sys/kernel/debug/kmemleak is not available" >"$S/kmemleak-missing"
	fi
fi
finish
