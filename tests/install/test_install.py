#!/usr/bin/env python3
"""`meson install` (what `make install` runs) into a staging DESTDIR.

The tree is checked against the build's own prefix and directories: the
three programs (and that they run), one systemd unit a role with the
options every role must have, the templates, the target, the onair user
for systemd-sysusers, the default settings (mode 0640, each key known to
the program that reads it: the installed program loads them) and the docs.
A second install keeps settings the operator changed and puts the new
default beside them. Every unit then passes `systemd-analyze verify`
without a message, on a root holding the staged tree and the host's
system units, and `systemd-analyze security` prints each unit's exposure.
Usage: test_install.py BUILD_DIR
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from station import Tap, log  # noqa: E402

ROLES = {  # unit: (program, its settings file, its command)
    "onair-api.service": ("onair", "onair.conf", "api"),
    "onair-api@.service": ("onair", "onair.conf", "api"),
    "onair-worker@.service": ("onair", "onair.conf", "worker"),
    "onair-messages.service": ("onair", "onair.conf", "messages"),
    "onair-playout.service": ("onair-playout", "playout.conf", "run"),
}
EVERY_ROLE = {"User": "onair", "Restart": "always", "RestartPreventExitStatus": "2",
              "NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
              "ProtectHome": "yes", "CapabilityBoundingSet": "", "UMask": "0027"}


def options(build):
    out = subprocess.run(["meson", "introspect", build, "--buildoptions"], check=True,
                         capture_output=True, text=True).stdout
    o = {x["name"]: x["value"] for x in json.loads(out)}

    def under(d):
        return d if d.startswith("/") else os.path.join(o["prefix"], d)
    unitdir = o.get("systemdunitdir") or os.path.join(o["prefix"], "lib/systemd/system")
    return {"bin": under(o["bindir"]), "etc": os.path.join(under(o["sysconfdir"]), "onair"),
            "doc": os.path.join(under(o["datadir"]), "doc", "onair"), "units": unitdir,
            "sysusers": os.path.join(o["prefix"], "lib/sysusers.d")}


def install(build, destdir):
    env = {k: v for k, v in os.environ.items() if k != "DESTDIR"}
    return subprocess.run(["meson", "install", "-C", build, "--destdir", destdir,
                           "--no-rebuild", "--quiet"], capture_output=True, text=True, env=env)


def unit_keys(path):
    """The unit's settings: {key: [values]} over every section."""
    keys = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            k, _, v = line.partition("=")
            keys.setdefault(k.strip(), []).append(v.strip())
    return keys


def staged(d, path):
    return os.path.join(d, path.lstrip("/"))


def main():
    build = sys.argv[1]
    tap = Tap()
    d = tempfile.mkdtemp(prefix="onair-install-")
    try:
        dirs = options(build)
        r = install(build, d)
        tap.ok(r.returncode == 0, "meson install into a DESTDIR", r.stderr[-2000:])

        for prog in ("onair", "onair-playout", "onair-supervise"):
            p = staged(d, os.path.join(dirs["bin"], prog))
            ok = os.path.isfile(p) and os.access(p, os.X_OK)
            if ok and prog != "onair-supervise":
                v = subprocess.run([p, "--version"], capture_output=True, text=True)
                ok = v.returncode == 0 and "0." in v.stdout + v.stderr
            tap.ok(ok, "%s installed in %s and runs" % (prog, dirs["bin"]))

        units_dir = staged(d, dirs["units"])
        found = sorted(os.listdir(units_dir)) if os.path.isdir(units_dir) else []
        log("units: %s" % " ".join(found))
        tap.ok(set(found) == set(ROLES) | {"onair.target"}, "one unit a role, and the target",
               found)
        for unit, (prog, conf, cmd) in ROLES.items():
            path = os.path.join(units_dir, unit)
            if not os.path.exists(path):
                tap.ok(False, "%s: present" % unit)
                continue
            k = unit_keys(path)
            want = "%s -c %s %s" % (os.path.join(dirs["bin"], prog),
                                    os.path.join(dirs["etc"], conf), cmd)
            tap.ok(k.get("ExecStart") == [want], "%s: runs %s" % (unit, want), k.get("ExecStart"))
            wrong = {n: k.get(n) for n, v in EVERY_ROLE.items() if k.get(n) != [v]}
            tap.ok(not wrong, "%s: its own user, hardened, restarted (not after exit 2)" % unit,
                   wrong)
            tap.ok(bool(k.get("StateDirectory")) and k.get("WantedBy") == ["onair.target"] and
                   k.get("PartOf") == ["onair.target"],
                   "%s: a state directory, part of onair.target" % unit)
            if unit.endswith("@.service"):
                tap.ok(any("%i" in v for vs in k.values() for v in vs),
                       "%s: each instance differs by %%i" % unit)
        playout = unit_keys(os.path.join(units_dir, "onair-playout.service")) \
            if "onair-playout.service" in found else {}
        tap.ok(playout.get("KillMode") == ["process"],
               "onair-playout.service: Liquidsoap outlives a playout restart (KillMode=process)")
        target = os.path.join(units_dir, "onair.target")
        tap.ok(os.path.exists(target) and
               unit_keys(target).get("WantedBy") == ["multi-user.target"],
               "onair.target: started at boot")

        sysusers = staged(d, os.path.join(dirs["sysusers"], "onair.conf"))
        with open(sysusers) as f:
            tap.ok(any(line.split()[:2] == ["u", "onair"] for line in f if line.strip()),
                   "sysusers.d makes the onair user")

        etc = staged(d, dirs["etc"])
        for conf, prog in (("onair.conf", "onair"), ("playout.conf", "onair-playout")):
            p = os.path.join(etc, conf)
            mode = stat.S_IMODE(os.stat(p).st_mode) if os.path.exists(p) else None
            tap.ok(mode == 0o640, "%s: installed, mode 0640 (it holds secrets)" % conf,
                   oct(mode) if mode is not None else "missing")
            r = subprocess.run([staged(d, os.path.join(dirs["bin"], prog)), "-c", p, "config"],
                               capture_output=True, text=True)
            tap.ok(r.returncode == 0, "%s: %s reads it (every key known)" % (conf, prog),
                   r.stderr[-500:])
        tap.ok(os.path.exists(etc) and stat.S_IMODE(os.stat(etc).st_mode) == 0o750,
               "%s: mode 0750" % dirs["etc"])

        with open(os.path.join(etc, "onair.conf"), "a") as f:
            f.write("\n[worker]\nparallelism = 3\n")
        with open(os.path.join(etc, "onair.conf")) as f:
            changed = f.read()
        r = install(build, d)
        with open(os.path.join(etc, "onair.conf")) as f:
            kept = f.read() == changed
        tap.ok(r.returncode == 0 and kept and os.path.exists(os.path.join(etc, "onair.conf.dist"))
               and not os.path.exists(os.path.join(etc, "playout.conf.dist")),
               "installing again keeps changed settings, the new default beside them",
               r.stdout + r.stderr)

        doc = staged(d, dirs["doc"])
        tap.ok(all(os.path.exists(os.path.join(doc, n))
                   for n in ("README.md", "operations.md", "architecture.md", "openapi.json")),
               "the docs are installed in %s" % dirs["doc"])

        analyze = shutil.which("systemd-analyze")
        if not analyze:
            tap.skip("systemd-analyze verify", "systemd-analyze is not installed")
            return tap.done()
        # A root with the staged tree, the host's system units, and ours
        # where systemd looks for an administrator's units.
        root = os.path.join(d, "root")
        shutil.copytree(d, root, symlinks=True, ignore=lambda p, n: ["root"] if p == d else [])
        shutil.copytree("/lib/systemd/system", os.path.join(root, "usr/lib/systemd/system"),
                        symlinks=True, dirs_exist_ok=True)
        etc_units = os.path.join(root, "etc/systemd/system")
        os.makedirs(etc_units, exist_ok=True)
        for u in found:
            shutil.copy(os.path.join(units_dir, u), etc_units)
        for u in found:
            name = u.replace("@.", "@1.")
            r = subprocess.run([analyze, "verify", "--root=" + root, name],
                               capture_output=True, text=True, cwd=root)
            tap.ok(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
                   "systemd-analyze verify %s: no message" % name, r.stdout + r.stderr)
            if name.endswith(".service"):
                s = subprocess.run([analyze, "security", "--offline=yes", "--root=" + root, name],
                                   capture_output=True, text=True, cwd=root)
                last = (s.stdout.strip().splitlines() or ["(no output)"])[-1]
                log(last.split("for ")[-1])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
