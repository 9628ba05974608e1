# Processes the bench starts: each in its own process group, remembered and ended by pid/group, and
# measured from /proc (RSS, CPU of the process itself and of its reaped children).
import os
import signal
import subprocess
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Procs:
    """Every process group the bench started, ended (TERM, a grace, KILL, reap) by close()."""

    def __init__(self):
        self.children = []
        self.cleanups = []

    def spawn(self, argv, *, log, env=None, cwd=None):
        out = open(log, "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             env=env, cwd=cwd, start_new_session=True)
        out.close()
        self.children.append(p)
        return p

    def stop(self, p, grace=5.0):
        if p.poll() is None:
            signal_group(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of its group (a daemon's own children) goes too.
        signal_group(p.pid, signal.SIGKILL)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if p in self.children:
            self.children.remove(p)

    def on_close(self, fn):
        self.cleanups.append(fn)

    def close(self):
        # Our children first: a daemon still checking would start a PM2 daemon again with `pm2 jlist`.
        for p in list(self.children):
            self.stop(p, grace=3)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # a cleanup that fails must not keep the others from running
                print(f"bench: cleanup failed: {e}")
        self.cleanups.clear()


def signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def rss_bytes(pid):
    """VmRSS of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """(own, reaped children) CPU seconds of a live process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / CLK_TCK, (cutime + cstime) / CLK_TCK


def own_runtime_seconds(pid):
    """CPU time of every thread of a process (also of a zombie), in ns precision from schedstat."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tasks = [str(pid)]
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def run_measured(argv, *, env=None, cwd=None, timeout=600, log=None):
    """Runs a command in its own group to its end. Returns wall, own CPU (the process itself, read while
    it is a zombie), children CPU (everything it reaped) and the exit code; kills the group on timeout."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                         env=env, cwd=cwd, start_new_session=True)
    if log:
        out.close()
    timer = threading.Timer(timeout, signal_group, (p.pid, signal.SIGKILL))
    timer.start()
    try:
        os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
        wall = time.monotonic() - start
        own = own_runtime_seconds(p.pid)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
        signal_group(p.pid, signal.SIGKILL)  # anything it left behind in its group
    total = usage.ru_utime + usage.ru_stime
    return {"wall_s": wall, "own_cpu_s": own, "children_cpu_s": max(0.0, total - own), "exit": p.returncode}
