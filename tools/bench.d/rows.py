# The bench's rows: http, footprint, cost, latency, scaling, pm2_transport. Each takes the context and adds figures.
import json
import os
import re
import signal
import subprocess
import threading
import time

from fixtures import (Daemon, clean_environ, Monit, Nginx, NodeServer, Pm2, Supervisord, http_get, make_demo, make_project,
                      realistic_jlist, wait_for)
from procs import cpu_seconds, own_runtime_seconds, rss_bytes, run_measured

MIB = 1024 * 1024
# The designed scale (issue 11): 100 PM2 apps, 50 workflows, 200 functions; the curve keeps that mix.
DESIGNED = (100, 50, 200)
# The default intervals of conf/redundancy.example.json, for the demo that otherwise checks every few s.
DEFAULT_INTERVALS = {"REDUNDANCY_PM2__INTERVAL": "30s", "REDUNDANCY_GITHUB__INTERVAL": "1m",
                     "REDUNDANCY_NETLIFY__INTERVAL": "2m", "REDUNDANCY_ORCHESTRATOR__INTERVAL": "1m",
                     "REDUNDANCY_ORCHESTRATOR__REPORT_INTERVAL": "5m"}


class Context:
    def __init__(self, env, procs, results, options):
        self.env, self.procs, self.results, self.o = env, procs, results, options
        self.runs = options["runs"]
        self.quick = options["quick"]
        self.wrk_seconds = 2 if self.quick else 10
        self._demo = None  # (config, pm2)
        self.daemon = None  # the daemon on the demo, when one runs
        self.pm2_capture = os.path.join(env.work, "pm2-jlist-100.json")

    def log(self, name):
        os.makedirs(os.path.join(self.env.out, "logs"), exist_ok=True)
        return os.path.join(self.env.out, "logs", name)

    def demo(self):
        if self._demo is None:
            say("starting the demo project's PM2 apps")
            self._demo = make_demo(self.env, self.procs, "demo")
        return self._demo

    def demo_daemon(self, extra_env=None):
        """The daemon on the demo project (one at a time: they would share its state folder)."""
        cfg, _ = self.demo()
        if self.daemon and self.daemon.extra == (extra_env or {}):
            return self.daemon
        self.stop_demo_daemon()
        d = Daemon(self.env, self.procs, cfg, self.log("demo-daemon.log"), extra_env)
        d.extra = extra_env or {}
        wait_for("the demo daemon's first checks", d.all_checked, 120, step=0.2)
        self.daemon = d
        return d

    def stop_demo_daemon(self):
        if self.daemon:
            self.daemon.stop()
            self.daemon = None


def say(text):
    print(f"bench: {text}", flush=True)


# --- wrk ---------------------------------------------------------------------------------------------

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(url, seconds, connections=50):
    """(requests per second, p99 latency in s, non-2xx count) of `wrk -t1 -cN -dS --latency`."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    p99 = float(m.group(1)) * UNITS[m.group(2)] if m else None
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p99, int(bad.group(1)) if bad else 0


class RssSampler:
    """The highest RSS of a pid while running, sampled every 100 ms."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid) or 0)
            self._stop.wait(0.1)

    def stop(self):
        self._stop.set()
        self.t.join()
        return self.peak


# --- rows --------------------------------------------------------------------------------------------

def row_http(ctx):
    r = ctx.results
    d = ctx.demo_daemon()
    bodies = {}
    for path, file in (("/api/health", "health.json"), ("/metrics", "metrics.txt")):
        got = http_get(d.url + path)
        bodies[file] = got[1]
        ctx.results.note("http", f"GET {path} of the daemon answers {got[0]} with {len(got[1])} bytes; nginx and "
                                 f"the Node server answer 200 with the same bytes")
    nginx = Nginx(ctx.env, ctx.procs, bodies)
    node = NodeServer(ctx.env, ctx.procs, bodies)
    servers = {"daemon": d.url, "nginx": nginx.url, "node": node.url}
    loaded = []
    for path, key in (("/api/health", "health"), ("/metrics", "metrics")):
        say(f"http: wrk -t1 -c50 -d{ctx.wrk_seconds}s {path}: daemon, nginx, node ({ctx.runs} runs each)")
        for url in servers.values():
            wrk(url + path, 1 if ctx.quick else 3)  # warm-up
        rps = {s: [] for s in servers}
        p99 = {s: [] for s in servers}
        for _ in range(ctx.runs):
            for s, url in servers.items():  # interleaved, so that a busy moment of the machine hits all
                sampler = RssSampler(d.pid) if s == "daemon" else None
                a, b, _ = wrk(url + path, ctx.wrk_seconds)
                if sampler:
                    loaded.append(sampler.stop())
                rps[s].append(a)
                p99[s].append(b)
        for s in servers:
            r.add("http", f"{key}_{s}_rps", rps[s], "rps")
            r.add("http", f"{key}_{s}_p99", p99[s], "s", "< 2 ms" if (s, key) == ("daemon", "health") else None)
        r.ratio("http", f"{key}_rps_daemon_to_nginx", f"{key}_daemon_rps", f"{key}_nginx_rps",
                ">= 0.80x" if key == "health" else None)
        r.ratio("http", f"{key}_p99_daemon_to_nginx", f"{key}_daemon_p99", f"{key}_nginx_p99")
        r.ratio("http", f"{key}_rps_daemon_to_node", f"{key}_daemon_rps", f"{key}_node_rps",
                ">= 3x" if key == "health" else None)
    r.add("footprint", "daemon_rss_under_http_load", loaded, "bytes")
    ctx.procs.stop(nginx.proc)
    ctx.procs.stop(node.proc)


def settle_rss(pid, samples, gap=0.5):
    out = []
    for _ in range(samples):
        out.append(rss_bytes(pid))
        time.sleep(gap)
    return out


def scale_daemon(ctx, name, apps, workflows, functions, template):
    """A daemon on a generated project, after its first check of everything: (daemon, seconds to that)."""
    cfg = make_project(ctx.env, name, apps=apps, workflows=workflows, functions=functions, pm2_template=template)
    d = Daemon(ctx.env, ctx.procs, cfg, ctx.log(f"{name}.log"))
    wait_for(f"the first checks of {name}", d.all_checked, 900, step=0.5)
    return d, time.monotonic() - d.started


def row_footprint(ctx):
    r = ctx.results
    d = ctx.demo_daemon()
    _, pm2 = ctx.demo()
    time.sleep(2)
    r.add("footprint", "daemon_rss_idle_demo", settle_rss(d.pid, max(3, ctx.runs)), "bytes")
    if not r.get("footprint", "daemon_rss_under_http_load"):
        loaded = []
        for _ in range(ctx.runs):
            sampler = RssSampler(d.pid)
            wrk(d.url + "/api/health", ctx.wrk_seconds)
            loaded.append(sampler.stop())
        r.add("footprint", "daemon_rss_under_http_load", loaded, "bytes")
    r.add("footprint", "pm2_daemon_rss_demo", settle_rss(pm2.daemon_pid(), max(3, ctx.runs)), "bytes")

    # monit watching the PM2 daemon and the demo's apps by their pid files; supervisord running the
    # same three apps (it only watches what it starts itself).
    pidfiles = {"pm2-daemon": os.path.join(pm2.home, "pm2.pid")}
    for f in sorted(os.listdir(os.path.join(pm2.home, "pids"))):
        pidfiles[f.rsplit(".", 1)[0]] = os.path.join(pm2.home, "pids", f)
    monit = Monit(ctx.env, ctx.procs, pidfiles)
    r.add("footprint", "monit_rss_demo", settle_rss(monit.pid, max(3, ctx.runs)), "bytes")
    ctx.procs.stop(monit.proc)
    project = os.path.dirname(ctx.demo()[0])
    apps = {n: (f"node apps/{n}.js", project) for n in ("web", "leaky", "crasher")}
    sup = Supervisord(ctx.env, ctx.procs, apps)
    r.add("footprint", "supervisord_rss_demo", settle_rss(sup.pid, max(3, ctx.runs)), "bytes")
    ctx.procs.stop(sup.proc)
    r.note("footprint", "monit watches the demo's PM2 daemon and apps by pid file (30 s cycle); supervisord runs "
                        "its own copies of the three demo apps (it can only watch what it starts); their RSS "
                        "excludes the apps")

    template = realistic_jlist(ctx.env, ctx.pm2_capture)
    for label, k in (("designed", 1), ("10x", 10)):
        if ctx.quick and k == 10:
            continue
        apps, wfs, fns = (x * k for x in DESIGNED)
        say(f"footprint: the daemon watching {apps} apps, {wfs} workflows, {fns} functions")
        d2, first = scale_daemon(ctx, f"scale-{label}", apps, wfs, fns, template)
        time.sleep(1)
        r.add("footprint", f"daemon_rss_{label}_scale", settle_rss(d2.pid, max(3, ctx.runs)), "bytes",
              "< 15 MiB" if k == 1 else None)
        r.add("footprint", f"first_full_check_{label}_scale", [first], "s")
        d2.stop()


def check_once(ctx, cfg, subsystem, runs, log):
    argv = [ctx.env.binary, "check", "--once", "--json", "--config", cfg]
    if subsystem:
        argv[3:3] = [subsystem]
    env = clean_environ()
    env["PATH"] = env.get("PATH", "") + ":" + os.path.dirname(ctx.env.pm2)
    out = [run_measured(argv, env=env, log=log if i == 0 else None) for i in range(runs)]
    return out


def last_json(log):
    text = open(log).read()
    start = text.rfind('\n{"status"')
    return json.loads(text[start + 1:] if start >= 0 else text[text.find("{"):].splitlines()[0])


def measure_check(ctx, row, label, cfg, base_cfg, subsystem, expect_targets, goal=None):
    """One subsystem's check by `redundancy check --once`: wall, children's CPU, our own CPU, and our own
    CPU beyond the same command on an empty project (start-up, config, the scheduler): the parsing."""
    r = ctx.results
    runs = ctx.runs
    log = ctx.log(f"check-{label}.log")
    open(log, "w").close()
    m = check_once(ctx, cfg, subsystem, runs, log)
    base = check_once(ctx, base_cfg, subsystem, runs, ctx.log(f"check-{label}-base.log"))
    got = last_json(log)["subsystems"][subsystem]
    seen = len(got["targets"])
    if seen < expect_targets:
        raise RuntimeError(f"{label}: the check saw {seen} targets, expected {expect_targets}: {got['summary']}")
    base_own = sorted(x["own_cpu_s"] for x in base)[len(base) // 2]
    r.add(row, f"{label}_wall", [x["wall_s"] for x in m], "s")
    r.add(row, f"{label}_children_cpu", [x["children_cpu_s"] for x in m], "s")
    r.add(row, f"{label}_own_cpu", [x["own_cpu_s"] for x in m], "s")
    r.add(row, f"{label}_own_cpu_beyond_startup", [max(0.0, x["own_cpu_s"] - base_own) for x in m], "s", goal)
    r.note(row, f"{label}: {got['status']}, {seen} targets, \"{got['summary']}\"")
    return m


def pm2_checks_done(url):
    """Finished PM2 checks, from /metrics."""
    got = http_get(url + "/metrics", timeout=10)
    if not got:
        raise RuntimeError("the daemon's /metrics did not answer")
    return sum(float(line.rsplit(" ", 1)[1]) for line in got[1].decode().splitlines()
               if line.startswith("redundancy_checks_total{") and 'subsystem="pm2"' in line)


def fake_pm2_daemon(ctx, name, n, template):
    """A daemon watching only a fake pm2 that prints n apps, checked every second, after its first check:
    (the config's path, the daemon)."""
    cfg = make_project(ctx.env, name, apps=n, workflows=0, functions=0, pm2_template=template,
                       intervals={"pm2": "1s"})
    conf = json.load(open(cfg))
    conf["github"]["enabled"] = False
    conf["netlify"]["enabled"] = False
    json.dump(conf, open(cfg, "w"))
    d = Daemon(ctx.env, ctx.procs, cfg, ctx.log(f"daemon-{name}.log"))
    wait_for("the first pm2 check", d.all_checked, 120, step=0.2)
    return cfg, d


def pm2_check_cpu_in_daemon(ctx, n, template):
    """Our own CPU seconds per PM2 check of a fake pm2 printing n apps, in a running daemon: one value per
    window of checks (schedstat, the daemon's threads only; the children are not in it)."""
    _, d = fake_pm2_daemon(ctx, f"pm2-fake-{n}-daemon", n, template)
    window = 3 if ctx.quick else 10
    per_check = []
    for _ in range(ctx.runs):
        checks0, cpu0 = pm2_checks_done(d.url), own_runtime_seconds(d.pid)
        time.sleep(window)
        checks1, cpu1 = pm2_checks_done(d.url), own_runtime_seconds(d.pid)
        if checks1 <= checks0:
            raise RuntimeError(f"no PM2 check finished in {window} s; see {d.log}")
        per_check.append((cpu1 - cpu0) / (checks1 - checks0))
    d.stop()
    return per_check


def real_pm2_apps(ctx, n):
    """A real PM2 running n small apps (`sleep`, interpreter none), its jlist captured for the fakes."""
    base = os.path.join(ctx.env.work, f"real-pm2-{n}")
    pm2 = Pm2(ctx.env, ctx.procs, os.path.join(base, "pm2-home"))
    eco = os.path.join(base, "ecosystem.config.cjs")
    apps = [{"name": f"real-{i:04d}", "script": "/bin/sleep", "args": "100000", "interpreter": "none",
             "autorestart": True} for i in range(n)]
    with open(eco, "w") as f:
        f.write("module.exports = " + json.dumps({"apps": apps}) + ";\n")
    say(f"cost: starting {n} apps under a real PM2")
    pm2.run("start", eco, cwd=base, timeout=300)
    jlist = pm2.run("jlist", timeout=120)
    with open(ctx.pm2_capture, "w") as f:
        f.write(jlist[jlist.find("["):])
    return pm2, [a["name"] for a in apps], base


def row_cost(ctx):
    r = ctx.results
    env = ctx.env
    # The real PM2 first: its jlist is the template of the fakes. --quick leaves it out (starting 100
    # apps under PM2 takes longer than the rest of the row) and copies the test fixture's app instead.
    if not ctx.quick:
        pm2, names, base = real_pm2_apps(ctx, 100)
        cfg = make_project(env, "pm2-real-100", apps=0, workflows=0, functions=0, pm2_template={})
        conf = json.load(open(cfg))
        conf["pm2"].update({"command": env.pm2, "home": os.path.join(base, "pm2-home"), "processes": names})
        json.dump(conf, open(cfg, "w"))
    template = realistic_jlist(env, ctx.pm2_capture)
    r.note("cost", f"a realistic jlist: {len(json.dumps(template))} bytes per app")
    empty = make_project(env, "empty", apps=0, workflows=0, functions=0, pm2_template=template)
    if not ctx.quick:
        say("cost: one PM2 check with the real pm2 and 100 apps")
        measure_check(ctx, "cost", "pm2_check_real_100", cfg, empty, "pm2", 100)
        pm2.stop()
    for n in (100, 1000):
        say(f"cost: one PM2 check with a fake pm2 printing {n} apps")
        p = make_project(env, f"pm2-fake-{n}", apps=n, workflows=0, functions=0, pm2_template=template)
        measure_check(ctx, "cost", f"pm2_check_fake_{n}", p, empty, "pm2", n)
    say("cost: PM2 checks of a fake pm2 printing 1000 apps inside a running daemon")
    r.add("cost", "pm2_check_fake_1000_in_daemon_own_cpu", pm2_check_cpu_in_daemon(ctx, 1000, template), "s", "< 20 ms")
    r.note("cost", "pm2_check_fake_1000_in_daemon_own_cpu: our own CPU per PM2 check (pm2.interval 1 s, the other "
                   "subsystems off, checks counted from /metrics), without the child's; what watching 1,000 apps "
                   "costs, where the check_once figures also pay for printing every target")
    say("cost: workflow validation of 50 files")
    p = make_project(env, "github-50", apps=0, workflows=50, functions=0, pm2_template=template)
    measure_check(ctx, "cost", "github_check_50", p, empty, "github", 50)
    say("cost: functions scan of 200")
    p = make_project(env, "netlify-200", apps=0, workflows=0, functions=200, pm2_template=template)
    measure_check(ctx, "cost", "netlify_check_200", p, empty, "netlify", 200)

    # The daemon's own CPU over one window at the default intervals, watching the demo.
    window = 10 if ctx.quick else 120
    say(f"cost: the daemon's CPU over {window} s at the default intervals (the demo project)")
    d = ctx.demo_daemon(DEFAULT_INTERVALS)
    # Own CPU from schedstat (ns); the children's from /proc/PID/stat (what the daemon reaped, 10 ms ticks).
    own0, kids0 = own_runtime_seconds(d.pid), cpu_seconds(d.pid)[1]
    time.sleep(window)
    own1, kids1 = own_runtime_seconds(d.pid), cpu_seconds(d.pid)[1]
    own, kids = own1 - own0, kids1 - kids0
    r.add("cost", "daemon_cpu_pct_own_default_intervals", [100 * own / window], "%", "< 0.1%")
    r.add("cost", "daemon_cpu_pct_with_children_default_intervals", [100 * (own + kids) / window], "%")
    r.add("cost", "daemon_cpu_s_per_hour_own", [own * 3600 / window], "s")
    r.add("cost", "daemon_cpu_s_per_hour_with_children", [(own + kids) * 3600 / window], "s")
    r.note("cost", f"the daemon's CPU is one window of {window} s (1 run) on the demo "
                   "(3 apps, 2 workflows, 3 functions), intervals pm2 30 s, github 1 m, netlify 2 m, orchestrator 1 m")
    ctx.stop_demo_daemon()


def row_latency(ctx):
    r = ctx.results
    cfg, pm2 = ctx.demo()
    ctx.stop_demo_daemon()
    say(f"latency: start to the first /api/health answer ({ctx.runs} runs)")
    ready = []
    for _ in range(ctx.runs):
        d = Daemon(ctx.env, ctx.procs, cfg, ctx.log("latency-start.log"))
        wait_for("/api/health", lambda: http_get(d.url + "/api/health", timeout=1), 60, step=0.005)
        ready.append(time.monotonic() - d.started)
        d.stop()
    r.add("latency", "start_to_first_health_answer", ready, "s")

    say("latency: SIGHUP to `config reloaded`")
    d = ctx.demo_daemon()
    reloads = []
    for _ in range(ctx.runs):
        offset = os.path.getsize(d.log)
        t0 = time.monotonic()
        os.kill(d.pid, signal.SIGHUP)
        wait_for("the reload", lambda: b"config reloaded" in open(d.log, "rb").read()[offset:], 30, step=0.002)
        reloads.append(time.monotonic() - t0)
        time.sleep(0.5)
    r.add("latency", "sighup_reload", reloads, "s")
    ctx.stop_demo_daemon()

    say("latency: an app killed into errored, back online (real PM2, pm2.interval 1 s)")
    base = os.path.join(ctx.env.work, "errored")
    victim_pm2 = Pm2(ctx.env, ctx.procs, os.path.join(base, "pm2-home"))
    cfg2 = make_project(ctx.env, "errored-project", apps=0, workflows=0, functions=0, pm2_template={})
    conf = json.load(open(cfg2))
    conf["pm2"].update({"command": ctx.env.pm2, "home": os.path.join(base, "pm2-home"), "processes": ["victim"],
                        "interval": "1s"})
    conf["orchestrator"]["auto_recovery"] = True
    conf["github"]["enabled"] = False
    conf["netlify"]["enabled"] = False
    json.dump(conf, open(cfg2, "w"))
    eco = os.path.join(base, "victim.config.cjs")
    # min_uptime × max_restarts: one exit within 10 minutes of its start is an unstable one, and PM2
    # gives up at once (errored), which the daemon must notice and undo.
    with open(eco, "w") as f:
        f.write("module.exports = {apps: [{name: 'victim', script: '/bin/sleep', args: '100000', interpreter: 'none',"
                " min_uptime: 600000, max_restarts: 1}]};\n")
    victim_pm2.run("start", eco, cwd=base)
    back = []
    for i in range(ctx.runs):
        # A new daemon each run: a second death within the hour falls in the restart backoff (5 s, doubled
        # per attempt), which is policy, not latency.
        d = Daemon(ctx.env, ctx.procs, cfg2, ctx.log(f"latency-errored-{i}.log"))
        wait_for("the first pm2 check", d.all_checked, 60, step=0.1)
        wait_for("victim online", lambda: victim_state(d)[0] == "online", 60, step=0.1)
        pid = int(open(os.path.join(base, "pm2-home", "pids", "victim-0.pid")).read())
        t0 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        wait_for("victim errored", lambda: victim_state(d)[0] == "errored", 30, step=0.02)
        wait_for("victim online again", lambda: victim_state(d)[0] == "online", 60, step=0.02)
        back.append(time.monotonic() - t0)
        d.stop()
    r.add("latency", "killed_errored_to_online", back, "s")
    r.note("latency", "killed to online: SIGKILL of the app, PM2 marks it errored (max_restarts 1), the daemon "
                      "(pm2.interval 1 s, default restart_delay, a new daemon each run so that no run falls in "
                      "the restart backoff) restarts it; timed until the daemon reports it online")
    victim_pm2.stop()

    say("latency: /api/health while 1,000 PM2 apps go down together and come back")
    r.add("latency", "health_answer_slowest_during_1000_apps_changing", health_during_mass_change(ctx, 1000), "s")
    r.note("latency", "health_answer_slowest_during_1000_apps_changing: the slowest /api/health answer (polled every "
                      "5 ms) from the moment a fake pm2 lists 1,000 apps errored, or online again, until 2 s after the "
                      "daemon reports it: that check records 1,000 status changes and 1,000 notifications")


def set_fake_apps_status(cfg, status):
    """Rewrites the fake pm2's list of a make_project project: every app in `status`."""
    path = os.path.join(os.path.dirname(os.path.dirname(cfg)), "fake-pm2", "jlist.json")
    apps = json.load(open(path))
    for a in apps:
        a["pm2_env"]["status"] = status
    with open(path + ".new", "w") as f:
        json.dump(apps, f)
    os.replace(path + ".new", path)


def health_during_mass_change(ctx, n):
    """The slowest /api/health answer while n PM2 apps go down together (errored) and come back: each such
    check records n status changes and n notifications at once. One value per change."""
    template = realistic_jlist(ctx.env, ctx.pm2_capture)
    cfg, d = fake_pm2_daemon(ctx, f"mass-{n}", n, template)
    slowest = []
    for i in range(max(2, ctx.runs)):
        going_down = i % 2 == 0
        set_fake_apps_status(cfg, "errored" if going_down else "online")
        worst, seen_at = 0.0, None
        end = time.monotonic() + 60
        # Until the change is seen and 2 s after it (the recording follows the check that saw it).
        while time.monotonic() < end and (seen_at is None or time.monotonic() < seen_at + 2):
            t0 = time.monotonic()
            got = http_get(d.url + "/api/health", timeout=30)
            worst = max(worst, time.monotonic() - t0)
            down = got is not None and json.loads(got[1])["subsystems"]["pm2"]["status"] == "unhealthy"
            if seen_at is None and got is not None and down == going_down:
                seen_at = time.monotonic()
            time.sleep(0.005)
        if seen_at is None:
            raise RuntimeError(f"the daemon never saw {n} apps {'errored' if going_down else 'online'}; see {d.log}")
        slowest.append(worst)
    d.stop()
    return slowest


def victim_state(d):
    """(PM2 status, pid) of the app `victim` as the daemon last saw it."""
    r = http_get(d.url + "/api/subsystems/pm2", timeout=5)
    if not r:
        return None, None
    for t in json.loads(r[1]).get("targets", []):
        if t.get("name") == "victim":
            return t.get("pm2_status", t.get("detail", {}).get("status")), t.get("pid", t.get("detail", {}).get("pid"))
    return None, None


def row_scaling(ctx):
    r = ctx.results
    template = realistic_jlist(ctx.env, ctx.pm2_capture)
    sizes = (10, 100, 1000) if ctx.quick else (10, 100, 1000, 10000)
    total = sum(DESIGNED)
    empty = make_project(ctx.env, "empty", apps=0, workflows=0, functions=0, pm2_template=template)
    base = check_once(ctx, empty, None, max(ctx.runs, 3), ctx.log("scaling-base.log"))
    base_own = sorted(x["own_cpu_s"] for x in base)[len(base) // 2]
    for n in sizes:
        apps, wfs = round(n * DESIGNED[0] / total), round(n * DESIGNED[1] / total)
        fns = n - apps - wfs
        say(f"scaling: {n} targets ({apps} apps, {wfs} workflows, {fns} functions)")
        d, first = scale_daemon(ctx, f"scaling-{n}", apps, wfs, fns, template)
        time.sleep(1)
        r.add("scaling", f"rss_{n}", settle_rss(d.pid, 3), "bytes")
        d.stop()
        cfg = os.path.join(ctx.env.work, f"scaling-{n}", "project", "redundancy.json")
        m = check_once(ctx, cfg, None, ctx.runs, ctx.log(f"scaling-{n}.log"))
        r.add("scaling", f"check_all_wall_{n}", [x["wall_s"] for x in m], "s")
        r.add("scaling", f"check_all_own_cpu_{n}", [x["own_cpu_s"] for x in m], "s")
        r.add("scaling", f"check_all_children_cpu_{n}", [x["children_cpu_s"] for x in m], "s")
        r.add("scaling", f"own_cpu_per_target_{n}", [(x["own_cpu_s"] - base_own) / n for x in m], "s")
    r.note("scaling", "targets in the designed mix (2 apps : 1 workflow : 4 functions); a check of every "
                      "subsystem by `redundancy check --once`; per target: own CPU beyond an empty project's, / N")


def row_pm2_transport(ctx):
    """PM2 read over its rpc.sock against `pm2 jlist`, and an errored app's wait for help with events and
    with polling only: tools/bench.d/pm2_transport.mjs on a real pm2 of its own (private PM2_HOME)."""
    r = ctx.results
    counts = "10,100" if ctx.quick else "10,100,1000"
    say(f"pm2_transport: CPU per check over rpc.sock vs pm2 jlist ({counts} apps), errored -> restart "
        f"({ctx.runs} runs each; polling waits up to 30 s a run)")
    out = os.path.join(ctx.env.work, "pm2-transport.json")
    script = os.path.join(ctx.env.root, "tools", "bench.d", "pm2_transport.mjs")
    log = ctx.log("pm2-transport.log")
    run = run_measured(["node", script, "--apps", counts, "--rounds", str(ctx.runs), "--json", out],
                       env=dict(os.environ, BUILD_DIR=ctx.env.build), timeout=3600, log=log)
    if run["exit"] != 0:
        raise RuntimeError(f"pm2_transport.mjs exited {run['exit']}: see {log}")
    figures = json.load(open(out))
    for n, by in figures["cpu"].items():
        for transport in ("rpc", "jlist"):
            r.add("pm2_transport", f"check_cpu_{transport}_{n}_apps", by[transport]["total"], "s")
            r.add("pm2_transport", f"check_cpu_{transport}_{n}_apps_ours", by[transport]["ours"], "s")
        r.add("pm2_transport", f"check_cpu_rpc_over_jlist_{n}_apps",
              [a / b for a, b in zip(by["rpc"]["total"], by["jlist"]["total"]) if b], "ratio")
    for how in ("events", "polling"):
        r.add("pm2_transport", f"errored_to_restart_started_{how}",
              [ms / 1000 for ms in figures["latency"][how] if ms is not None], "s")
    r.note("pm2_transport", "CPU per check inside the running daemon (pm2.interval 1 s, checks counted by /metrics, "
                            "each run a 10 s window): ours with the `pm2 jlist` children it reaps, plus the PM2 "
                            "daemon's; rpc is pm2.transport socket, jlist is cli; the apps are `sleep` under PM2")
    r.note("pm2_transport", "errored -> restart started: from PM2's `restart overlimit` broadcast of an expected app "
                            "(max_restarts 3 reached) to the start of our recovery running `pm2 restart`; events: "
                            "pm2.transport auto, interval 60 s; polling only: pm2.transport cli, interval 30 s")


ROWS = {"http": row_http, "footprint": row_footprint, "cost": row_cost, "latency": row_latency,
        "scaling": row_scaling, "pm2_transport": row_pm2_transport}
