#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks `cmake --install` and the uninstall target the way a packager uses them, into throwaway
# DESTDIRs: a fresh install puts exactly the expected files in place (mutexctl, mutexd, the unit,
# the modules-load.d entry, the example configuration and the commented modprobe.d example under
# /etc, the module's sources for DKMS), and uninstall leaves the DESTDIR empty; an install over
# an operator's edited /etc/mutex_proxy/mutexd.toml keeps it byte for byte, and uninstall then
# leaves exactly that file.
# Usage: tests/install.sh BUILD_DIR   (configured, with mutexctl and mutexd built)
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1/CMakeCache.txt" ] || { echo "usage: $0 BUILD_DIR (configured, built)" >&2; exit 2; }
build=$1
work=$(mktemp -d /tmp/mutex-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
files() { (cd "$1" && find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\./|/|' | sort); }
install_into() { DESTDIR=$1 cmake --install "$build" --prefix /usr >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }; }
uninstall_from() { DESTDIR=$1 cmake --build "$build" --target uninstall >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }; }

# 1. fresh install, then uninstall
d=$work/fresh
install_into "$d"
got=$(files "$d" | grep -v '^/usr/src/mutex_proxy-' || true)
want=$(printf '%s\n' /etc/modprobe.d/mutex_proxy.conf /etc/mutex_proxy/mutexd.toml /usr/bin/mutexctl \
	/usr/lib/modules-load.d/mutex_proxy.conf /usr/lib/systemd/system/mutex-proxy-guard.service \
	/usr/lib/systemd/system/mutexd.service /usr/sbin/mutexd)
if [ "$got" != "$want" ]; then
	echo "FAIL: installed files (outside the DKMS tree) differ:"; diff <(echo "$want") <(echo "$got") || true; fail=1
else
	echo "ok: install put $(files "$d" | wc -l) files in place"
fi
[ -n "$(files "$d" | grep '^/usr/src/mutex_proxy-.*/dkms.conf$')" ] || { echo "FAIL: no DKMS tree"; fail=1; }
grep -qx 'mutex_proxy' "$d/usr/lib/modules-load.d/mutex_proxy.conf" || { echo "FAIL: modules-load.d entry"; fail=1; }
if grep -q '^[[:space:]]*options' "$d/etc/modprobe.d/mutex_proxy.conf"; then
	echo "FAIL: the modprobe.d example sets options (it must be all comments)"; fail=1
fi
uninstall_from "$d"
left=$(cd "$d" 2>/dev/null && find . -mindepth 1 || true)
if [ -n "$left" ]; then echo "FAIL: uninstall left behind:"; echo "$left"; fail=1; else echo "ok: uninstall left the DESTDIR empty"; fi

# 2. over an operator's configuration
d=$work/operator
mkdir -p "$d/etc/mutex_proxy"
printf '# the operator'"'"'s own\n[daemon]\nlog_level = "debug"\n' >"$d/etc/mutex_proxy/mutexd.toml"
before=$(sha256sum <"$d/etc/mutex_proxy/mutexd.toml")
install_into "$d"
[ "$(sha256sum <"$d/etc/mutex_proxy/mutexd.toml")" = "$before" ] || { echo "FAIL: install overwrote the operator's mutexd.toml"; fail=1; }
[ -f "$d/usr/sbin/mutexd" ] || { echo "FAIL: install over an existing /etc did not install mutexd"; fail=1; }
uninstall_from "$d"
left=$(files "$d")
if [ "$left" != /etc/mutex_proxy/mutexd.toml ] || [ "$(sha256sum <"$d/etc/mutex_proxy/mutexd.toml")" != "$before" ]; then
	echo "FAIL: after uninstall, expected the operator's file alone, found:"; echo "$left"; fail=1
else
	echo "ok: the operator's mutexd.toml kept by install and by uninstall"
fi
exit $fail
