# SPDX-License-Identifier: GPL-2.0
"""VM test of the module as an operator installs it: built and installed by DKMS on the host
(tests/dkms.sh, compressed the way the kernel compresses its own modules: xz on Debian's 6.12),
put under /lib/modules/RELEASE/updates/dkms/, found by depmod, loaded by `modprobe mutex_proxy`
with its dependencies and with parameters from modprobe.d. Stock lanes only (guest.py --dkms;
the debug kernel has everything built in and no headers package).

/lib/modules is the host's, read-only: an overlay with a tmpfs upper layer takes the module and
depmod's files for the length of the test. modprobe.d is read from /run/modprobe.d as well as
/etc/modprobe.d; /run is the VM's own tmpfs.
"""
import os

from guest import check, check_eq, run

RELEASE = os.uname().release
MODDIR = f"/lib/modules/{RELEASE}"
UPPER = "/run/dkms-overlay"
CONF = "/run/modprobe.d/mutex_proxy.conf"
# Values no test leaves behind and no default has.
PARAMS = {"perf_cache_size": "2048", "max_conns": "5000", "perf_batch_size": "16"}


def module_deps(path):
    """The modules the module file at `path` depends on (modinfo)."""
    return [d for d in run(["modinfo", "-F", "depends", path], check_rc=0).out.strip().split(",")
            if d]


def install_for_modprobe(path):
    """Puts the module file at `path` under MODDIR/updates/dkms (writable: the caller's overlay,
    or a root that is one) and runs depmod, so that modprobe finds it and its dependencies.
    depmod over every module of the kernel reads (and on 6.12 decompresses) thousands of files
    over 9p: about 100 s in this VM. It is given the module and its dependencies' closure
    instead (as the kernel's own modules.dep resolves them), which is all modprobe needs here."""
    closure = set()
    for dep in module_deps(path):
        for line in run(["modprobe", "--show-depends", dep], check_rc=0).out.splitlines():
            words = line.split()
            if words and words[0] == "insmod":
                closure.add(words[1])
    os.makedirs(f"{MODDIR}/updates/dkms", exist_ok=True)
    run(["cp", path, f"{MODDIR}/updates/dkms/"], check_rc=0)
    run(["depmod", RELEASE, f"{MODDIR}/updates/dkms/{os.path.basename(path)}", *sorted(closure)],
        check_rc=0)


def test_dkms_modprobe_loads_the_installed_module(env):
    """modprobe finds the DKMS-installed module, loads its dependencies, applies modprobe.d."""
    if env.dkms is None:
        return  # debug lane: no DKMS here
    kos = [f for f in os.listdir(env.dkms) if f.startswith("mutex_proxy.ko")]
    check_eq(len(kos), 1, f"one DKMS-installed module in {env.dkms}: {kos}")
    ko = kos[0]
    compress = open(f"{MODDIR}/build/.config").read()
    want_ext = (".ko.xz" if "CONFIG_MODULE_COMPRESS_XZ=y" in compress else
                ".ko.zst" if "CONFIG_MODULE_COMPRESS_ZSTD=y" in compress else
                ".ko.gz" if "CONFIG_MODULE_COMPRESS_GZIP=y" in compress else ".ko")
    check_eq(ko[len("mutex_proxy"):], want_ext, "compressed as the kernel's own modules are")
    check(not env.loaded(), "mutex_proxy loaded before the test")

    deps = module_deps(os.path.join(env.dkms, ko))
    check("nf_conntrack" in deps and "nf_nat" in deps, f"depends on conntrack and NAT: {deps}")
    os.makedirs(f"{UPPER}/up", exist_ok=True)
    os.makedirs(f"{UPPER}/work", exist_ok=True)
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={MODDIR},upperdir={UPPER}/up,workdir={UPPER}/work", MODDIR], check_rc=0)
    try:
        install_for_modprobe(os.path.join(env.dkms, ko))
        path = run(["modinfo", "-F", "filename", "mutex_proxy"], check_rc=0).out.strip()
        check_eq(path, f"{MODDIR}/updates/dkms/{ko}", "modinfo finds the DKMS-installed module")

        os.makedirs(os.path.dirname(CONF), exist_ok=True)
        with open(CONF, "w") as f:
            f.write("options mutex_proxy " + " ".join(f"{k}={v}" for k, v in PARAMS.items()) + "\n")
        # Earlier test files leave conntrack and NAT loaded: unload what nothing holds, so that
        # modprobe has to bring it back.
        run(["modprobe", "-r", "-q", *deps])
        absent = [d for d in deps if not os.path.exists(f"/sys/module/{d}")]
        run(["modprobe", "mutex_proxy"], check_rc=0)
        check(env.loaded(), "mutex_proxy not loaded by modprobe")
        for dep in deps:
            check(os.path.exists(f"/sys/module/{dep}"),
                  f"dependency {dep} not loaded (absent before modprobe: {absent})")
        for name, value in PARAMS.items():
            check_eq(env.sysfs_read(name), value, f"{name} from modprobe.d")
        version = run(["modinfo", "-F", "version", "mutex_proxy"], check_rc=0).out.strip()
        with open("/sys/module/mutex_proxy/version") as f:
            check_eq(f.read().strip(), version, "the loaded module is the installed one")
        # mutexctl talks to it, and sees the parameters modprobe.d set.
        st = env.mutexctl("-j", "status").json()
        check_eq(st["version"], version, "mutexctl status: the module's version")
        check_eq(str(st["params"]["perf_cache_size"]), PARAMS["perf_cache_size"], "mutexctl status: params")
    finally:
        run(["modprobe", "-r", "mutex_proxy"])
        if os.path.exists(CONF):
            os.unlink(CONF)
        run(["umount", MODDIR])
    check(not env.loaded(), "mutex_proxy still loaded after modprobe -r")
