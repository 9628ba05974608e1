# tools/bench's body: runs the rows asked for, prints one table, writes build/bench/results.json and
# build/bench/performance.md. Everything it starts is ended (by process group or pid) on the way out.
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixtures import Env  # noqa: E402
from procs import Procs  # noqa: E402
from report import Results, versions  # noqa: E402
from rows import ROWS, Context, say  # noqa: E402


def parse(argv):
    p = argparse.ArgumentParser(prog="tools/bench", description="Benchmarks the daemon beside nginx, a Node "
                                "server, PM2, monit and supervisord; writes build/bench/results.json.")
    p.add_argument("--quick", action="store_true", help="fewer and shorter runs, no 10x/10,000 points")
    p.add_argument("--only", action="append", default=[], metavar="ROW",
                   help=f"only these rows (repeat or comma-separate): {', '.join(ROWS)}")
    p.add_argument("--runs", type=int, default=None, help="runs per figure (default 3, --quick 2)")
    a = p.parse_args(argv)
    only = [x for o in a.only for x in o.split(",") if x]
    for x in only:
        if x not in ROWS:
            p.error(f"--only {x}: no such row (rows: {', '.join(ROWS)})")
    runs = a.runs if a.runs is not None else (2 if a.quick else 3)
    if runs < 1:
        p.error("--runs must be at least 1")
    return {"quick": a.quick, "only": only or list(ROWS), "runs": runs}


def main():
    options = parse(sys.argv[1:])
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = os.environ.get("BUILD_DIR", "build")
    env = Env(root, build if os.path.isabs(build) else os.path.join(root, build))
    os.makedirs(env.work, exist_ok=True)
    procs = Procs()
    # SIGTERM and SIGHUP end the bench the way Ctrl-C does: through the cleanup below.
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    results = Results(options)
    started = time.time()
    ctx = Context(env, procs, results, options)
    failed = []
    try:
        for row in [r for r in ROWS if r in options["only"]]:
            t = time.monotonic()
            try:
                ROWS[row](ctx)
            except (RuntimeError, OSError, ValueError, KeyError, AttributeError) as e:
                failed.append(row)
                results.note(row, f"FAILED: {e}")
                say(f"{row}: FAILED: {e}")
            say(f"{row}: {time.monotonic() - t:.0f} s")
    except KeyboardInterrupt:
        say("interrupted; stopping what the bench started")
        failed.append("interrupted")
    finally:
        ctx.stop_demo_daemon()
        procs.close()
    doc = results.write(env.out, versions(env.binary), started)
    print()
    results.print_table()
    print(f"\nbench: {os.path.join(env.out, 'results.json')} and performance.md ({doc['duration_s']:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
