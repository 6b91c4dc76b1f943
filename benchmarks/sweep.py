"""Time ``freight sweep`` against separate ``freight run``s, in one sitting, and check that
every way of running the points gives the same figures.

``python -m benchmarks.sweep [--skip-large] [--json]``

Each timing is the wall time of a fresh ``freight`` process (the command a planner types),
the network cache warm (a first ``freight run`` fills it):

1. one warm ``freight run`` of the embedded default (maps included), twice;
2. the 13-point threshold sweep ``--vary policy.threshold_km=200:800:50`` on the default:
   on the local Dask cluster (the default), in this process (``--workers 0``), on a
   ``dask scheduler`` and two ``dask worker`` processes on localhost
   (:func:`freight.cluster.scheduler_processes`, started before the clock), and again on
   the local cluster with every point stored (a rerun);
3. the same 13 points as 13 separate ``freight run <point>.toml --no-maps`` (the sweep
   draws no map per point either);
4. at size ``large`` (benchmarks/generate.py), a 4-point sweep (300–600 km) cold and
   ``--warm`` on the local cluster, against one ``freight run --no-maps`` of the instance.

Identity: every figure of every point must be equal (``==``) across the local cluster,
this process, the scheduler and the separate runs; ``--warm`` at ``large`` is compared too
and reported (not required: see :mod:`freight.sweep`).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "data" / "liaocheng" / "liaocheng-2019.toml"
VARY = "policy.threshold_km=200:800:50"
LARGE_VARY = "policy.threshold_km=300:600:100"


def _freight() -> list[str]:
    return [sys.executable, "-m", "freight.cli"]


def timed(args: list[str], *, log: Path, ok: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of ``freight <args>`` in a fresh process (an exit code in ``ok``)."""
    t = time.perf_counter()
    with open(log, "ab") as fh:
        code = subprocess.call([*_freight(), *args], stdout=fh, stderr=subprocess.STDOUT,
                               cwd=ROOT, stdin=subprocess.DEVNULL)  # fmt: skip
    if code not in ok:
        raise SystemExit(f"freight {' '.join(args)} exited {code}; see {log}")
    return time.perf_counter() - t


def _figures_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return {r["name"]: {k: v for k, v in r.items() if k not in ("seconds", "point")}
                for r in csv.DictReader(fh)}  # fmt: skip


def _equal(x: str | None, y: str | None) -> bool:
    """Cells equal as numbers when both are numbers (``21`` = ``21.0``), else as text."""
    try:
        return float(x) == float(y) or (float(x) != float(x) and float(y) != float(y))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return x == y


def _same(a: dict[str, dict[str, str]], b: dict[str, dict[str, str]]) -> tuple[int, int]:
    """(cells compared, cells that differ) between two sweep tables."""
    n = bad = 0
    for name, row in a.items():
        for k, v in row.items():
            n += 1
            bad += not _equal(b.get(name, {}).get(k), v)
    return n, bad


def _separate_figures(runs: Path) -> dict[str, dict[str, Any]]:
    from freight.sweep_results import summary_figures

    return {d.name: summary_figures(json.loads((d / "summary.json").read_text("utf-8")))
            for d in sorted(runs.iterdir()) if (d / "summary.json").is_file()}  # fmt: skip


def bench(*, large: bool = True) -> dict[str, Any]:
    from freight.cluster import local_workers, scheduler_processes

    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    log = work / "log.txt"
    res: dict[str, Any] = {"machine": f"{os.uname().machine}, {local_workers()} cores",
                           "date": time.strftime("%Y-%m-%d %H:%M"), "log": str(log)}  # fmt: skip

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    say("warming the network cache: freight run")
    timed(["run", str(DEFAULT), "--out", str(work / "warmup")], log=log)
    res["single_run_s"] = [timed(["run", str(DEFAULT), "--out", str(work / f"single{i}")],
                                 log=log) for i in range(2)]  # fmt: skip
    say(f"  warm single run: {res['single_run_s']}")
    sweeps = {}
    for label, extra in (("local", []), ("in_process", ["--workers", "0"])):
        out = work / f"sweep-{label}"
        sweeps[label] = timed(["sweep", str(DEFAULT), "--vary", VARY, "--out", str(out),
                               *extra], log=log)  # fmt: skip
        say(f"  13-point sweep, {label}: {sweeps[label]:.1f} s")
    sweeps["rerun_stored"] = timed(["sweep", str(DEFAULT), "--vary", VARY, "--out",
                                    str(work / "sweep-local")], log=log)  # fmt: skip
    with scheduler_processes(work / "dask", workers=2) as address:
        sweeps["scheduler_2_workers"] = timed(["sweep", str(DEFAULT), "--vary", VARY,
                                               "--out", str(work / "sweep-cluster"),
                                               "--scheduler", address], log=log)  # fmt: skip
    say(f"  13-point sweep on a scheduler + 2 workers: {sweeps['scheduler_2_workers']:.1f} s")
    points = sorted((work / "sweep-local" / "points").glob("*.toml"))
    t = time.perf_counter()
    for p in points:
        # a point where the hard rule cannot hold is exit 3 alone, a row in the sweep
        timed(["run", str(p), "--out", str(work / "separate" / p.stem), "--no-maps"], log=log,
              ok=(0, 3))  # fmt: skip
    sweeps["separate_runs"] = time.perf_counter() - t
    say(f"  {len(points)} separate freight runs: {sweeps['separate_runs']:.1f} s")
    res["default"] = sweeps
    warm_single = min(res["single_run_s"])
    res["ratios_to_one_warm_run"] = {k: v / warm_single for k, v in sweeps.items()}

    tables = {k: _figures_csv(work / f"sweep-{k}" / "sweep.csv")
              for k in ("local", "in_process", "cluster")}  # fmt: skip
    ident = {f"local_vs_{k}": _same(tables["local"], tables[k]) for k in ("in_process", "cluster")}
    sep = _separate_figures(work / "separate")
    n = bad = 0
    for name, figs in sep.items():
        row = tables["local"][name]
        for k, v in figs.items():
            if k == "scenario":
                continue
            n += 1
            bad += not _equal(row.get(k, ""), "" if v is None else str(v))
    ident["local_vs_separate_runs"] = (n, bad)
    res["identity_cells_compared_differing"] = ident
    say(f"  identity: {ident}")

    if large:
        sys.path.insert(0, str(ROOT))
        from benchmarks.generate import ensure

        inst = ensure("large")
        timed(["run", str(inst), "--out", str(work / "large-warmup"), "--no-maps"], log=log)
        lg = {"single_run_s": timed(["run", str(inst), "--out", str(work / "large-single"),
                                     "--no-maps"], log=log)}  # fmt: skip
        for label, extra in (("cold", []), ("warm", ["--warm"])):
            lg[f"sweep_4_{label}_s"] = timed(["sweep", str(inst), "--vary", LARGE_VARY,
                                              "--out", str(work / f"large-{label}"), *extra],
                                             log=log)  # fmt: skip
        a = _figures_csv(work / "large-cold" / "sweep.csv")
        b = _figures_csv(work / "large-warm" / "sweep.csv")
        lg["cold_vs_warm_cells_compared_differing"] = _same(a, b)
        cols = ("comparisons.policy_cost_cny", "comparisons.rule_effect.road_t")
        lg["cold_vs_warm"] = {name: {c: (row[c], b[name][c]) for c in cols}
                              for name, row in a.items()}  # fmt: skip
        res["large"] = lg
        say(f"  large: {lg}")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.sweep",
                                 description=__doc__.split("\n")[0])  # fmt: skip
    ap.add_argument("--skip-large", action="store_true", help="only the embedded default")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args(argv)
    res = bench(large=not args.skip_large)
    if args.json:
        print(json.dumps(res, indent=1, ensure_ascii=False))
        return 0
    one = min(res["single_run_s"])
    print(f"{res['machine']}, {res['date']}; one warm freight run: "
          f"{', '.join(f'{s:.1f}' for s in res['single_run_s'])} s")
    for k, v in res["default"].items():
        print(f"  {k:<22}{v:>8.1f} s  {v / one:>5.2f} × one warm run")
    for k, (n, bad) in res["identity_cells_compared_differing"].items():
        print(f"  identity {k}: {bad} of {n} cells differ")
    if "large" in res:
        lg = res["large"]
        print(f"large: one run {lg['single_run_s']:.1f} s; 4-point sweep cold "
              f"{lg['sweep_4_cold_s']:.1f} s, warm {lg['sweep_4_warm_s']:.1f} s; cold vs warm "
              f"{lg['cold_vs_warm_cells_compared_differing'][1]} of "
              f"{lg['cold_vs_warm_cells_compared_differing'][0]} cells differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
