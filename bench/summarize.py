#!/usr/bin/env python3
"""Markdown tables of the latest run of each benchmark.

Usage: bench/summarize.py RESULTS_DIR > RESULTS_DIR/latest.md
       bench/summarize.py --targets RESULTS_DIR   (the issue's targets, met or not)
       bench/summarize.py --rings RESULTS_DIR     (ring layouts side by side: rings_*.json)

Reads RESULTS_DIR/*.json (one JSON object per line, appended by the benchmarks:
{"bench", "run", "figure", <parameters>, "unit", "median", "min", "max", "runs",
"values"} or {"bench", "run", "note"}) and prints, for each file, the figures and
notes of its most recent run. Lines that are not JSON objects are skipped, so the
figures of other benchmarks that print their own format still come through.
"""
import glob
import json
import os
import sys

FIXED = {"bench", "run", "figure", "unit", "median", "min", "max", "runs", "values", "note"}


def fmt(v):
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return "{:,.0f}".format(v)
        return "{:.3g}".format(v)
    return str(v)


# The targets: (what, bench, figure, parameters, unit, test, goal, judged on).
# "median": the median over the runs must pass (min and max shown beside it);
# "every run": every run must pass, i.e. the worst one (the test is applied to
# the max for an upper bound, to the min for a lower bound: see `worst`).
TARGETS = [
    # capture engine v2
    ("receiver CPU per frame, 16 expectations, over tcpdump's (same run)", "capture", "cpu_per_frame_ratio",
     {"tool": "pktexpect/tcpdump", "k": 16}, "x", lambda v: v <= 2.0, "<= 2.0", "median"),
    ("zero-loss rate, 16 expectations, over tcpdump's (same run)", "capture", "zero_loss_rate_ratio",
     {"tool": "pktexpect/tcpdump"}, "x", lambda v: v >= 1.0, ">= 1.0", "median"),
    ("port read fraction at full rate, 1000 indexed saw_udp(dport=N), over K = 1's (same run)", "capture",
     "port_read_fraction_ratio", {"tool": "pktexpect_indexed", "k": 1000}, "x", lambda v: v >= 0.95, ">= 0.95",
     "median"),
    ("send-to-verdict p99, idle port, every run", "latency", "send_to_verdict_p99",
     {"condition": "pktexpect_idle"}, "us", lambda v: v <= 100, "<= 100 us", "every run"),
    ("send-to-verdict p99, port carrying 500 kframes/s, every run", "latency", "send_to_verdict_p99",
     {"condition": "pktexpect_loaded"}, "us", lambda v: v <= 500, "<= 500 us", "every run"),
    ("arm time p50 (px_expect on an open port)", "latency", "arm_p50",
     {"condition": "pktexpect_idle"}, "us", lambda v: v <= 5, "<= 5 us", "median"),
    # the same two with PX_CAPTURE_THROUGHPUT (ring layout v3:tov=1, from the ring comparison)
    ("receiver CPU per frame, 16 expectations, over tcpdump's, capture: throughput (same run)", "rings_capture",
     "cpu_per_frame_ratio", {"tool": "pktexpect/tcpdump", "k": 16, "ring": "v3:tov=1"}, "x", lambda v: v <= 2.0,
     "<= 2.0", "median"),
    ("zero-loss rate, 16 expectations, over tcpdump's, capture: throughput (same run)", "rings_capture",
     "zero_loss_rate_ratio", {"tool": "pktexpect/tcpdump", "k": 16, "ring": "v3:tov=1"}, "x", lambda v: v >= 1.0,
     ">= 1.0", "median"),
    # earlier issue, still tracked
    ("zero-loss rate, 16 expectations, over scapy's (same run)", "capture", "zero_loss_rate_ratio",
     {"tool": "pktexpect/scapy"}, "x", lambda v: v >= 50, ">= 50", "median"),
    ("10 negative checks together / one after another", "negative", "ratio_together_sequential",
     {}, "x", lambda v: v <= 0.15, "<= 0.15", "median"),
]


def worst(row, goal):
    """The run that decides an "every run" target: max for an upper bound, min for a lower one."""
    return row["max"] if goal.startswith("<") else row["min"]


def latest_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                rows.append(obj)
    runs = [r.get("run") for r in rows if r.get("run")]
    if runs:
        latest = max(runs)
        rows = [r for r in rows if r.get("run") == latest]
    return rows


def targets(results):
    print("| target | goal | measured: median (min - max) | judged on | met |")
    print("| --- | --- | --- | --- | --- |")
    for what, bench, figure, params, unit, test, goal, judge in TARGETS:
        path = os.path.join(results, bench + ".json")
        row = None
        if os.path.exists(path):
            for r in latest_rows(path):
                if r.get("figure") == figure and all(r.get(k) == v for k, v in params.items()):
                    row = r
        if row is None:
            print("| %s | %s | not measured | %s | - |" % (what, goal, judge))
            continue
        v = row["median"] if judge == "median" else worst(row, goal)
        per_run = ""
        if judge != "median" and row.get("values"):
            per_run = "; runs: " + ", ".join(fmt(float(x)) for x in row["values"])
        print("| %s | %s | %s %s (%s - %s)%s | %s | %s |" % (what, goal, fmt(row["median"]), unit, fmt(row["min"]),
                                                           fmt(row["max"]), per_run, judge,
                                                           "yes" if test(v) else "**no**"))
    return 0


def rings(results):
    """The ring layouts of `bench_capture --ring` and `bench_latency --ring` (one
    run of scripts/bench.sh), the default layout first; every figure is the
    median (min - max) over the runs, the ratios are taken run by run."""
    cap, lat = [], []
    for name, out in (("rings_capture", cap), ("rings_latency", lat)):
        path = os.path.join(results, name + ".json")
        if os.path.exists(path):
            out.extend(latest_rows(path))
    if not cap and not lat:
        print("no ring layouts measured (bench_capture / bench_latency --ring)")
        return 0
    layouts = ["default"]
    for r in cap + lat:
        if r.get("ring") and r["ring"] not in layouts:
            layouts.append(r["ring"])

    def find(rows, figure, **params):
        ring = params.pop("ring")
        for r in rows:
            if r.get("figure") == figure and r.get("ring", "default") == ring and \
                    all(r.get(k) == v for k, v in params.items()):
                return r
        return None

    def cell(row, unit="", worst=False):
        if row is None:
            return "-"
        if worst:
            return "%s%s (runs: %s)" % (fmt(row["max"]), unit, ", ".join(fmt(float(x)) for x in row["values"]))
        return "%s%s (%s - %s)" % (fmt(row["median"]), unit, fmt(row["min"]), fmt(row["max"]))

    runs = max([r.get("runs", 0) for r in cap + lat if "runs" in r] or [0])
    print("Ring layouts, %d runs (median (min - max); ratios run by run; latency p99: the worst run)\n" % runs)
    print("| layout | CPU/frame K=16 mix | over default | CPU/frame K=16 indexed | over default "
          "| seen at full speed, mix | zero-loss rate, mix | idle p50 | idle p99 (worst) | loaded p50 "
          "| loaded p99 (worst) | arm p50 idle |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for L in layouts:
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            L if L != "default" else "default (v2, slots from the MTU, next header prefetched)",
            cell(find(cap, "receiver_cpu_per_frame", tool="pktexpect", k=16, ring=L), " us"),
            cell(find(cap, "cpu_per_frame_ratio_to_default_ring", tool="pktexpect", k=16, ring=L), " x"),
            cell(find(cap, "receiver_cpu_per_frame", tool="pktexpect_indexed", k=16, ring=L), " us"),
            cell(find(cap, "cpu_per_frame_ratio_to_default_ring", tool="pktexpect_indexed", k=16, ring=L), " x"),
            cell(find(cap, "seen_fraction", tool="pktexpect", k=16, ring=L)),
            cell(find(cap, "zero_loss_rate", tool="pktexpect", k=16, ring=L)),
            cell(find(lat, "send_to_verdict_p50", condition="pktexpect_idle", ring=L), " us"),
            cell(find(lat, "send_to_verdict_p99", condition="pktexpect_idle", ring=L), " us", worst=True),
            cell(find(lat, "send_to_verdict_p50", condition="pktexpect_loaded", ring=L), " us"),
            cell(find(lat, "send_to_verdict_p99", condition="pktexpect_loaded", ring=L), " us", worst=True),
            cell(find(lat, "arm_p50", condition="pktexpect_idle", ring=L), " us")))
    td = find(cap, "receiver_cpu_per_frame", tool="tcpdump", ring="default")
    tz = find(cap, "zero_loss_rate", tool="tcpdump", ring="default")
    if td or tz:
        print("\ntcpdump in the same run: CPU/frame %s, zero-loss rate %s" % (cell(td, " us"), cell(tz)))
    return 0


def main(argv):
    if len(argv) == 2 and argv[0] == "--targets":
        return targets(argv[1])
    if len(argv) == 2 and argv[0] == "--rings":
        return rings(argv[1])
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    for path in sorted(glob.glob(os.path.join(argv[0], "*.json"))):
        rows = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    rows.append(obj)
        if not rows:
            continue
        runs = [r.get("run") for r in rows if r.get("run")]
        latest = max(runs) if runs else None
        if latest:
            rows = [r for r in rows if r.get("run") == latest]
        name = os.path.splitext(os.path.basename(path))[0]
        print("### %s%s\n" % (name, " (run %s)" % latest if latest else ""))
        for r in rows:
            if "note" in r:
                print("- %s" % r["note"])
        print()
        print("| figure | parameters | median | min | max | unit | runs |")
        print("| --- | --- | ---: | ---: | ---: | --- | ---: |")
        for r in rows:
            if "note" in r:
                continue
            if "median" not in r:  # a figure in some other shape: show it whole
                print("| %s | %s | | | | | |" % (r.get("figure", r.get("name", "?")),
                                                 ", ".join("%s=%s" % kv for kv in r.items())))
                continue
            params = ", ".join("%s=%s" % (k, v) for k, v in r.items() if k not in FIXED)
            print("| %s | %s | %s | %s | %s | %s | %s |" % (r.get("figure", "?"), params, fmt(r["median"]),
                                                            fmt(r["min"]), fmt(r["max"]), r.get("unit", ""),
                                                            r.get("runs", "")))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
