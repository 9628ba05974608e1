# What the bench watches and compares against: the demo project under a real PM2, generated projects
# of N apps/workflows/functions with a fake pm2, the daemon itself, nginx, a Node server, monit, supervisord.
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from procs import alive, rss_bytes


class Env:
    """Paths of the tree and the build, and the bench folder."""

    def __init__(self, root, build):
        self.root = root
        self.build = build
        # The binary under test: $BENCH_BINARY (the smoke test hands over CMake's), else the build's.
        self.binary = os.environ.get("BENCH_BINARY") or os.path.join(build, "redundancy")
        self.pm2 = os.path.join(build, "npm", "node_modules", ".bin", "pm2")
        # Where results and the bench's projects go: $BENCH_OUT (the smoke test's own folder), else build/bench.
        self.out = os.path.abspath(os.environ.get("BENCH_OUT") or os.path.join(build, "bench"))
        self.work = os.path.join(self.out, "work")


def clean_environ(**extra):
    """The environment for the daemon: ours without REDUNDANCY_* (it takes those as config overrides and
    refuses unknown ones), with build/npm's pm2 on the PATH, plus `extra`."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("REDUNDANCY_")}
    e.update(extra)
    return e


def http_get(url, timeout=5):
    """(status, body) of a GET, any status; None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
        return None


def wait_for(what, test, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = test()
        if v:
            return v
        time.sleep(step)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pm2:
    """A real PM2 (build/npm's) under a private PM2_HOME, ended by the pid of its daemon."""

    def __init__(self, env, procs, home):
        self.env, self.home = env, home
        os.makedirs(home, exist_ok=True)
        procs.on_close(self.stop)

    def run(self, *args, cwd=None, timeout=120):
        e = dict(os.environ, PM2_HOME=self.home, PM2_SILENT="true")
        return subprocess.run([self.env.pm2, *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout,
                              check=True).stdout

    def daemon_pid(self):
        try:
            pid = int(open(os.path.join(self.home, "pm2.pid")).read().strip())
            return pid if alive(pid) else None
        except (OSError, ValueError):
            return None

    def app_pids(self):
        pids = []
        for f in glob.glob(os.path.join(self.home, "pids", "*.pid")):
            try:
                pids.append(int(open(f).read().strip()))
            except (OSError, ValueError):
                pass
        return pids

    def stop(self):
        # As tools/demo/start does: TERM to the daemon of this PM2_HOME, then KILL by pid what outlived it.
        pid = self.daemon_pid()
        if pid is None:
            return
        apps = self.app_pids()
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 10
        while alive(pid) and time.monotonic() < end:
            time.sleep(0.1)
        for p in [pid, *apps]:
            if alive(p):
                os.kill(p, signal.SIGKILL)


class FakePm2Home:
    """A PM2_HOME that looks alive to the daemon: pm2.pid names this bench, rpc.sock accepts (and closes;
    the projects read with pm2.transport cli)."""

    def __init__(self, home):
        os.makedirs(home, exist_ok=True)
        with open(os.path.join(home, "pm2.pid"), "w") as f:
            f.write(str(os.getpid()))
        path = os.path.join(home, "rpc.sock")
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
                c.close()
            except OSError:
                return


def realistic_jlist(env, pm2_capture):
    """One app of a real `pm2 jlist` (captured from the real PM2 when the bench ran it, else the test
    fixture), to be copied N times."""
    if pm2_capture and os.path.exists(pm2_capture):
        apps = json.load(open(pm2_capture))
        if apps:
            return apps[0]
    return json.load(open(os.path.join(env.root, "test", "fixtures", "pm2", "jlist_mixed.json")))[0]


def write_fake_pm2(folder, template, apps):
    """folder/pm2: prints folder/jlist.json (`apps` copies of a real app, all online) for `jlist`."""
    os.makedirs(folder, exist_ok=True)
    listing = []
    for i in range(apps):
        a = json.loads(json.dumps(template))
        name = f"app-{i:05d}"
        a["name"], a["pm_id"], a["pid"] = name, i, 100000 + i
        a.setdefault("pm2_env", {})
        a["pm2_env"].update({"name": name, "pm_id": i, "status": "online", "restart_time": 0, "unstable_restarts": 0})
        a["monit"] = {"memory": 40 * 1024 * 1024, "cpu": 0}
        listing.append(a)
    with open(os.path.join(folder, "jlist.json"), "w") as f:
        json.dump(listing, f)
    script = os.path.join(folder, "pm2")
    with open(script, "w") as f:
        f.write('#!/bin/sh\n# The bench\'s pm2: a realistic `pm2 jlist` from a file, nothing else.\n'
                '[ "$1" = jlist ] && exec cat "$(dirname "$0")/jlist.json"\nexit 0\n')
    os.chmod(script, 0o755)
    return script, [a["name"] for a in listing]


WORKFLOW = """# A workflow of the bench's generated project.
name: Workflow {i}
on:
  workflow_dispatch:
  push:
    branches: [main]
  schedule:
    - cron: "{m} {h} * * *"
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      NODE_ENV: production
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - name: Install
        run: npm ci
      - name: Test
        run: npm test -- --shard=${{{{ matrix.shard }}}}
    strategy:
      matrix:
        shard: [1, 2]
"""


def make_project(env, name, *, apps, workflows, functions, pm2_template, intervals=None):
    """A project of `apps` PM2 apps (fake pm2), `workflows` workflow files and `functions` functions
    (v1 .js and v2 .mjs in turn), with its redundancy.json. Returns the config's path."""
    base = os.path.join(env.work, name)
    shutil.rmtree(base, ignore_errors=True)
    project = os.path.join(base, "project")
    wf_dir = os.path.join(project, ".github", "workflows")
    fn_dir = os.path.join(project, "netlify", "functions")
    os.makedirs(wf_dir)
    os.makedirs(fn_dir)
    pm2, names = write_fake_pm2(os.path.join(base, "fake-pm2"), pm2_template, apps)
    FakePm2Home(os.path.join(base, "pm2-home"))
    for i in range(workflows):
        with open(os.path.join(wf_dir, f"wf-{i:05d}.yml"), "w") as f:
            f.write(WORKFLOW.format(i=i, m=i % 60, h=i % 24))
    demo_fns = os.path.join(env.root, "tools", "demo", "project", "netlify", "functions")
    for i in range(functions):
        src, ext = ("hello.js", "js") if i % 2 == 0 else ("time.mjs", "mjs")
        shutil.copy(os.path.join(demo_fns, src), os.path.join(fn_dir, f"fn-{i:05d}.{ext}"))
    iv = intervals or {}
    config = {
        "project_dir": ".", "state_dir": "automation", "log_dir": "automation/logs",
        "http": {"listen": "127.0.0.1:0"},
        # transport cli: these figures are of `pm2 jlist` and its parsing (pm2_transport compares the socket)
        "pm2": {"command": pm2, "home": "../pm2-home", "ecosystem_files": [], "processes": names,
                "timeout": "60s", "transport": "cli", **({"interval": iv["pm2"]} if "pm2" in iv else {})},
        "github": {"workflows": [], "backup": ["local"], "timeout": "120s",
                   **({"interval": iv["github"]} if "github" in iv else {})},
        "netlify": {"auto_deploy": False, "timeout": "600s", **({"interval": iv["netlify"]} if "netlify" in iv else {})},
        "orchestrator": {"auto_recovery": False},
    }
    path = os.path.join(project, "redundancy.json")
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    return path


def make_demo(env, procs, name, *, pm2_overrides=None):
    """tools/demo/project copied to the bench folder, its three apps started under a real PM2 (as
    tools/demo/start does). Returns (config path, Pm2)."""
    base = os.path.join(env.work, name)
    shutil.rmtree(base, ignore_errors=True)
    project = os.path.join(base, "project")
    shutil.copytree(os.path.join(env.root, "tools", "demo", "project"), project)
    cfg = os.path.join(project, "redundancy.json")
    text = open(cfg).read().replace("@PM2@", env.pm2)
    with open(cfg, "w") as f:
        f.write(text)
    pm2 = Pm2(env, procs, os.path.join(base, "pm2-home"))
    pm2.run("start", "ecosystem.config.cjs", cwd=project)
    return cfg, pm2


class Daemon:
    """`redundancy run` on a config, on a free loopback port; ready once http.addr is written."""

    def __init__(self, env, procs, config, log, extra_env=None):
        self.env, self.procs, self.config, self.log = env, procs, config, log
        state = os.path.join(os.path.dirname(config), "automation")
        self.addr_file = os.path.join(state, "http.addr")
        if os.path.exists(self.addr_file):
            os.unlink(self.addr_file)
        e = clean_environ(REDUNDANCY_HTTP__LISTEN="127.0.0.1:0", **(extra_env or {}))
        e["PATH"] = e.get("PATH", "") + ":" + os.path.dirname(env.pm2)
        self.started = time.monotonic()
        self.proc = procs.spawn([env.binary, "run", "--config", config], log=log, env=e)
        self.pid = self.proc.pid
        addr = wait_for("the daemon's http.addr", self._addr, 120)
        self.url = f"http://{addr}"

    def _addr(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"the daemon exited ({self.proc.returncode}); see {self.log}")
        try:
            a = open(self.addr_file).read().strip()
            return a or None
        except OSError:
            return None

    def status(self):
        r = http_get(self.url + "/api/status", timeout=10)
        return json.loads(r[1]) if r and r[0] in (200, 503) else None

    def all_checked(self):
        """True once every enabled subsystem has a finished check."""
        s = self.status()
        if not s:
            return False
        subs = s.get("subsystems", {})
        return bool(subs) and all(v.get("checked_at") for v in subs.values())

    def rss(self):
        return rss_bytes(self.pid)

    def stop(self):
        self.procs.stop(self.proc)


class Nginx:
    """nginx serving two static files from the bench folder, one worker (the daemon has one thread)."""

    def __init__(self, env, procs, files):
        base = os.path.join(env.work, "nginx")
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(os.path.join(base, "html"))
        os.makedirs(os.path.join(base, "tmp"))
        for name, body in files.items():
            with open(os.path.join(base, "html", name), "wb") as f:
                f.write(body)
        self.port = free_port()
        conf = os.path.join(base, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
user root;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {base}/tmp; proxy_temp_path {base}/tmp; fastcgi_temp_path {base}/tmp;
  uwsgi_temp_path {base}/tmp; scgi_temp_path {base}/tmp;
  types {{ application/json json; text/plain txt; }}
  server {{
    listen 127.0.0.1:{self.port};
    root {base}/html;
    location = /api/health {{ default_type application/json; try_files /health.json =404; }}
    location = /metrics {{ default_type text/plain; try_files /metrics.txt =404; }}
  }}
}}
""")
        if os.getuid() != 0:
            text = open(conf).read().replace("user root;\n", "")
            open(conf, "w").write(text)
        self.proc = procs.spawn(["nginx", "-p", base, "-c", conf, "-g", "daemon off;"], log=os.path.join(base, "out.log"))
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for("nginx", lambda: http_get(self.url + "/api/health"), 20)

    def pids(self):
        """The master and its worker."""
        out = subprocess.run(["ps", "-o", "pid=", "-g", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]


class NodeServer:
    """A minimal node:http server answering the same bytes (tools/bench.d/node_server.mjs)."""

    def __init__(self, env, procs, files):
        base = os.path.join(env.work, "node-server")
        os.makedirs(base, exist_ok=True)
        for name, body in files.items():
            with open(os.path.join(base, name), "wb") as f:
                f.write(body)
        self.port = free_port()
        script = os.path.join(env.root, "tools", "bench.d", "node_server.mjs")
        self.proc = procs.spawn(["node", script, str(self.port), base], log=os.path.join(base, "out.log"))
        self.url = f"http://127.0.0.1:{self.port}"
        wait_for("the node server", lambda: http_get(self.url + "/api/health"), 20)


class Monit:
    """monit, configured in the bench folder to watch the demo's PM2 daemon and apps by pid file."""

    def __init__(self, env, procs, pidfiles):
        base = os.path.join(env.work, "monit")
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        rc = os.path.join(base, "monitrc")
        lines = [f"set daemon 30", f"set pidfile {base}/monit.pid", f"set idfile {base}/monit.id",
                 f"set statefile {base}/monit.state", f"set logfile {base}/monit.log"]
        for name, pf in pidfiles.items():
            lines.append(f"check process {name} with pidfile {pf}")
        with open(rc, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(rc, 0o600)
        self.proc = procs.spawn(["monit", "-I", "-c", rc], log=os.path.join(base, "out.log"))
        wait_for("monit", lambda: os.path.exists(os.path.join(base, "monit.pid")), 20)
        time.sleep(1)
        self.pid = self.proc.pid


class Supervisord:
    """supervisord, configured in the bench folder, running the same three demo apps (it can only
    watch what it starts)."""

    def __init__(self, env, procs, apps):
        base = os.path.join(env.work, "supervisord")
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        conf = os.path.join(base, "supervisord.conf")
        lines = ["[supervisord]", f"logfile={base}/supervisord.log", f"pidfile={base}/supervisord.pid",
                 f"childlogdir={base}", "nodaemon=true", "", "[unix_http_server]", f"file={base}/supervisor.sock", "",
                 "[rpcinterface:supervisor]",
                 "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", ""]
        for name, (cmd, cwd) in apps.items():
            lines += [f"[program:{name}]", f"command={cmd}", f"directory={cwd}", "autorestart=true",
                      "stopasgroup=true", "killasgroup=true", ""]
        with open(conf, "w") as f:
            f.write("\n".join(lines))
        self.proc = procs.spawn(["supervisord", "-c", conf], log=os.path.join(base, "out.log"))
        wait_for("supervisord", lambda: os.path.exists(os.path.join(base, "supervisord.pid")), 30)
        time.sleep(2)
        self.pid = self.proc.pid
