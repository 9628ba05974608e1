# Figures (median, min, max of several runs), the warnings about noisy runs, and the outputs: the table
# on stdout, results.json and performance.md.
import json
import os
import platform
import statistics
import subprocess
import time


def load_average():
    return " ".join(open("/proc/loadavg").read().split()[:3])


class Results:
    def __init__(self, options):
        self.options = options
        self.figures = {}  # row -> name -> figure
        self.notes = {}  # row -> [text]
        self.warnings = []

    def add(self, row, name, values, unit, goal=None):
        """One figure from the values of its runs; warns (with the machine's load) when they vary by
        more than 20% of their median."""
        values = [float(v) for v in values if v is not None]
        if not values:
            return None
        med = statistics.median(values)
        fig = {"median": med, "min": min(values), "max": max(values), "runs": len(values), "unit": unit,
               "values": values}
        if goal:
            fig["goal"] = goal
        spread = (fig["max"] - fig["min"]) / med if med else 0.0
        if len(values) > 1 and spread > 0.20:
            fig["spread"] = spread
            w = f"{row}/{name}: runs vary by {spread:.0%} (load average {load_average()})"
            self.warnings.append(w)
            print(f"bench: WARNING {w}", flush=True)
        self.figures.setdefault(row, {})[name] = fig
        return fig

    def ratio(self, row, name, num, den, goal=None):
        a, b = self.get(row, num), self.get(row, den)
        if not a or not b or not b["median"]:
            return None
        fig = {"median": a["median"] / b["median"], "min": a["min"] / b["max"] if b["max"] else None,
               "max": a["max"] / b["min"] if b["min"] else None, "runs": min(a["runs"], b["runs"]), "unit": "x",
               "ratio_of": [num, den]}
        if goal:
            fig["goal"] = goal
        self.figures.setdefault(row, {})[name] = fig
        return fig

    def get(self, row, name):
        return self.figures.get(row, {}).get(name)

    def note(self, row, text):
        self.notes.setdefault(row, []).append(text)

    def machine(self):
        cpu = "unknown"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        mem = 0
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
        return {"cpus": os.cpu_count(), "cpu": cpu, "memory_mib": mem, "kernel": platform.release(),
                "load_average_at_end": load_average()}

    def write(self, out_dir, versions, started):
        os.makedirs(out_dir, exist_ok=True)
        doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
               "duration_s": round(time.time() - started, 1), "machine": self.machine(), "versions": versions,
               "options": self.options, "rows": self.figures, "notes": self.notes, "warnings": self.warnings}
        tmp = os.path.join(out_dir, "results.json.tmp")
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, os.path.join(out_dir, "results.json"))
        md = self.markdown(doc)
        tmp = os.path.join(out_dir, "performance.md.tmp")
        with open(tmp, "w") as f:
            f.write(md)
        os.replace(tmp, os.path.join(out_dir, "performance.md"))
        return doc

    def lines(self):
        rows = [("ROW", "FIGURE", "MEDIAN", "MIN", "MAX", "RUNS", "GOAL")]
        for row, figs in self.figures.items():
            for name, f in figs.items():
                rows.append((row, name, fmt(f["median"], f["unit"]), fmt(f["min"], f["unit"]),
                             fmt(f["max"], f["unit"]), str(f["runs"]), f.get("goal", "")))
        return rows

    def print_table(self):
        rows = self.lines()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        for w in self.warnings:
            print(f"WARNING {w}")

    def markdown(self, doc):
        m = doc["machine"]
        out = [f"Measured {doc['date']} by `tools/bench` ({'--quick, ' if self.options.get('quick') else ''}"
               f"{self.options.get('runs')} runs per figure) on {m['cpus']} cores ({m['cpu']}), {m['memory_mib']} MiB, "
               f"load average {m['load_average_at_end']} at the end.", "",
               "| row | figure | median | min | max | runs | goal |", "|---|---|---|---|---|---|---|"]
        for r in self.lines()[1:]:
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        for row, notes in self.notes.items():
            for n in notes:
                out.append(f"\n- {row}: {n}")
        for w in self.warnings:
            out.append(f"\n- warning: {w}")
        return "\n".join(out) + "\n"


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "bytes":
        return f"{v / 1048576:.1f} MiB"
    if unit == "s":
        return f"{v * 1000:.1f} ms" if v < 10 else f"{v:.1f} s"
    if unit == "x":
        return f"{v:.2f}x"
    if unit == "%":
        return f"{v:.3f}%"
    if unit == "rps":
        return f"{v:,.0f}/s"
    return f"{v:g} {unit}"


def versions(binary):
    def first_line(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except Exception:
            return None
    return {"nginx": first_line(["nginx", "-v"]), "wrk": first_line(["wrk", "--version"]),
            "node": first_line(["node", "--version"]), "monit": first_line(["monit", "-V"]),
            "supervisord": first_line(["supervisord", "--version"])}
