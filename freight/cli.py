"""The ``freight`` command: networks, route, validate, run.

Exit codes: 0 success; 2 input error (one line per problem on stderr, naming file, row or
feature, and field; also a result folder that may not or cannot be replaced); 3 the
capacities cannot carry the flows under the rule; 1 anything else (the solver ended
without an optimum, another run is writing the folder); 130 interrupted (Ctrl-C), 143
terminated (SIGTERM) -- one line, and no result folder half-written.

(Over 500 lines: one short function per sub-command and the one parser for them all; the
work of each command is in its own module.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from networks import FreightError, InfeasibleError, InputError, InputErrors

EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like KeyboardInterrupt (every ``finally`` runs: the
    pricing worker is stopped, the staging folder removed) and ends the command with
    :data:`EXIT_TERMINATED`."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated` in the main thread
    (the previous handler is restored after)."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def default_scenario() -> Path:
    """The embedded Liaocheng base-year scenario shipped in ``data/``."""
    return Path(__file__).resolve().parents[1] / "data" / "liaocheng" / "liaocheng-2019.toml"


def _scenario_arg(value: str | None) -> Path:
    path = Path(value) if value else default_scenario()
    if not path.exists():
        raise InputError(str(path), "file", "SCENARIO", "file not found")
    if not path.is_file():  # a folder, a pipe or a device: never read (a FIFO would hang)
        raise InputError(str(path), "file", "SCENARIO", "not a regular file")
    return path


def _load(scenario_path: Path, progress):  # type: ignore[no-untyped-def]
    from freight.run import load_network_for

    return load_network_for(scenario_path, progress=progress)


def _cmd_networks(args: argparse.Namespace) -> int:
    from freight.progress import Progress
    from networks.routing import summarize

    if args.check:
        return _check_networks(args)
    progress = Progress(None if args.json else sys.stderr)
    _, network = _load(_scenario_arg(args.scenario), progress)
    summary = summarize(network)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    print(f"{'mode':<10}{'nodes':>10}{'edges':>10}{'km':>12}{'components':>12}")
    for mode in ("road", "rail", "pipeline"):
        s = summary[mode]
        print(f"{mode:<10}{s['nodes']:>10,}{s['edges']:>10,}{s['km']:>12,.0f}{s['components']:>12,}")
    print(f"places linked: {summary.get('places', 0)}")
    print("\nnamed rail lines matched onto the geometry (km on the graph / straight km):")
    for m in summary.get("rail_lines", []):
        gaps = f", {len(m['gaps'])} gap(s) left untagged" if m.get("gaps") else ""
        print(f"  {m['name']:<12} {m['matched_km']:>8,.0f} km  ratio {m['ratio']:.2f}{gaps}")
    return 0


def _check_networks(args: argparse.Namespace) -> int:
    """``freight networks --check``: the topology of the scenario's line layers, as read
    (no network is built)."""
    from freight.scenario import load_scenario
    from networks.topology import check_config, format_reports

    config = load_scenario(_scenario_arg(args.scenario)).network
    reports = check_config(config, near_m=args.near_m)
    if args.json:
        print(json.dumps({m: r.to_dict() for m, r in reports.items()}, ensure_ascii=False))
        return 0
    sources = {m: str(getattr(config, m)) for m in reports}
    for line in format_reports(reports, sources=sources, examples=args.examples):
        print(line)
    return 0


def _cmd_route(args: argparse.Namespace) -> int:
    from freight.progress import Progress
    from networks.routing import route

    progress = Progress(None if args.json else sys.stderr)
    _, network = _load(_scenario_arg(args.scenario), progress)
    r = route(network, args.origin, args.destination, mode=args.mode)
    matches = network.graphs["rail"].graph.get("line_matches", [])
    names = {m["line_id"]: m.get("name") or m["line_id"] for m in matches}
    lines = [names.get(i, i) for i in r.lines]
    if args.json:
        print(json.dumps({"km": round(r.km, 3), "mode": r.mode, "lines": lines,
                          "line_ids": list(r.lines)}, ensure_ascii=False))
        return 0
    print(f"{args.origin} → {args.destination} by {r.mode}: {r.km:,.1f} km")
    if lines:
        print("lines: " + " → ".join(lines))
    return 0


def _cmd_locate(args: argparse.Namespace) -> int:
    from freight.progress import Progress
    from networks.locate import LINK_WARN_KM, locate

    progress = Progress(None if args.json else sys.stderr)
    scenario, network = _load(_scenario_arg(args.scenario), progress)
    tol = scenario.network.link_tolerance_km
    found = locate(network, args.point, tolerance_km=tol)
    if args.json:
        print(json.dumps(found.as_dict(), ensure_ascii=False))
        return 0
    what = f"place {found.place} ({found.place_name})" if found.place else "point"
    print(f"{found.lon:.6f},{found.lat:.6f}: {what}")
    for mode, n in found.nearest.items():
        if n is None:
            print(f"  {mode:<9} no {mode} line within the network")
            continue
        if n.links:
            joined = f"joined: yes (within link_tolerance_km.{mode} = {n.tolerance_km:g} km)"
            if n.km > LINK_WARN_KM.get(mode, math.inf):
                joined += f"; over {LINK_WARN_KM[mode]:g} km, charged as {mode} km"
        else:
            joined = f"joined: no (more than link_tolerance_km.{mode} = {n.tolerance_km:g} km)"
        if n.own:
            joined = "this place's own link"
        print(f"  {mode:<9}{n.km:>9.2f} km to {n.lon:.6f},{n.lat:.6f}  {n.line}  {joined}")
        if n.note:
            print(f"  {'':<9}{n.note}")
    for hint in found.hints:
        print(f"hint: {hint}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from freight.checks import validate
    from freight.progress import Progress
    from networks.locate import link_report

    path = _scenario_arg(args.scenario)
    problems = validate(path)  # every check run makes before solving (freight.checks)
    if problems:
        for p in problems:
            print(p.line(), file=sys.stderr)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return EXIT_INPUT
    print("tables, layers, network and flows are valid (every check run makes before solving)")
    scenario, network = _load(path, Progress(None))
    rows, warnings = link_report(network, tolerance_km=scenario.network.link_tolerance_km)
    print(f"\n{'place':<34}{'road km':>9}{'rail km':>9}{'pipeline km':>13}")
    for r in rows:
        cells = "".join(f"{'' if r[m] is None else f'{r[m]:.2f}':>{w}}"
                        for m, w in (("road", 9), ("rail", 9), ("pipeline", 13)))
        print(f"{_clip(r['id'] + ' ' + r['name'], 34)}{cells}")
    _print_joins(network)
    messages = [w.message for w in warnings] + _unknown_users(scenario, network)
    for m in messages:
        print(f"warning: {m}", file=sys.stderr)
    print(f"\nscenario is valid ({len(messages)} warning(s))")
    return 0


def _unknown_users(scenario, network) -> list[str]:  # type: ignore[no-untyped-def]
    """A warning per ``users`` name of a reserved line that is no flow's shipper: a typo
    there would leave the line open to nobody."""
    from freight.tables import read_flows
    from networks.sidings import reserved_lines

    users = reserved_lines(network)
    if not users:
        return []
    shippers = {f.shipper.strip().casefold(): f.shipper for f in read_flows(scenario.flows_file)}
    known = ", ".join(sorted(set(shippers.values()) - {""})) or "none"
    return [f"line {' / '.join(lines)} is reserved for {user!r}, which is no flow's shipper "
            f"(shippers: {known}); no flow may use it"
            for user, lines in users.items() if user.casefold() not in shippers]


def _clip(text: str, width: int) -> str:
    """``text`` cut and padded to ``width`` terminal columns (a CJK character takes two)."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


def _print_joins(network) -> None:  # type: ignore[no-untyped-def]
    """Where each added line (``extra_lines``) joins the network, and the gates it made."""
    joins = [j for G in network.graphs.values() for j in G.graph.get("joins", [])]
    if not joins:
        return
    print("\nadded lines (extra_lines): where each end joins the network")
    for j in joins:
        print(f"  {j['text']}")


def _cmd_run(args: argparse.Namespace) -> int:
    from freight.run import print_table, run

    result = run(
        _scenario_arg(args.scenario),
        Path(args.out) if args.out else None,
        tiles=args.tiles,
        export_lp=Path(args.export_lp) if args.export_lp else None,
        solver=args.solver,
        maps=not args.no_maps,
        force=args.force,
    )
    print_table(result)
    return 0


_SCENARIO_HELP = "scenario TOML (default: the embedded Liaocheng 2019 scenario)"


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from freight.calibrate import calibrate, write_calibration
    from freight.progress import Progress

    scenario = _scenario_arg(args.scenario)
    cal = calibrate(scenario, progress=Progress(sys.stderr))
    out = Path(args.out) if args.out else Path("runs") / f"{cal.scenario.name}-calibration"
    write_calibration(cal, out)
    print(f"\n{cal.scenario.title or cal.scenario.name}: calibrated in {cal.rounds} round(s)")
    print(f"{'parameter':<36}{'prior':>12}{'calibrated':>12}  bound")
    for p in cal.parameters:
        print(f"{p.key:<36}{p.prior:>12.4g}{p.value:>12.4g}  {p.binds}")
    misfits = sorted((f for f in cal.flows if not f.reproduced),
                     key=lambda f: -(f.tonnes * (f.misfit_cny_per_t
                                                 if f.misfit_cny_per_t == f.misfit_cny_per_t
                                                 else 1e9)))
    if misfits:
        print("\nnot reproduced (check with shippers first, largest tonnes × misfit first):")
        for f in misfits:
            print(f"  {f.flow_id} {f.commodity} {f.origin} → {f.destination} "
                  f"{f.tonnes:,.0f} t {f.baseline_mode}: misfit {f.misfit_cny_per_t:.2f} CNY/t"
                  f"{'; ' + f.explanation if f.explanation else ''}")
    for line in cal.over_capacity:
        print(f"warning: today's flows exceed a capacity: {line}", file=sys.stderr)
    print(f"\n{cal.fit_line()}")
    print(f"results in {out}/ (calibrated.toml, calibration.csv, flows_fit.csv)")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    """``freight sweep``: plan the points (every bad --vary at once), write their TOMLs,
    solve them on Dask (or here with --workers 0), write the tables and sweep.html."""
    import contextlib

    from freight.cluster import dask_client
    from freight.scenario import load_scenario
    from freight.sweep import WORKER_MODULES, parse_vary, plan_sweep, run_sweep, to_solve
    from freight.sweep_results import HEADLINES, write_points, write_sweep
    from maps.sweep_page import render_sweep

    base = _scenario_arg(args.scenario)
    varies, errors = [], []
    for spec in args.vary or []:
        try:
            varies.append(parse_vary(spec))
        except InputError as exc:
            errors.append(exc)
    if errors:
        raise InputErrors(errors)
    plan = plan_sweep(base, varies, zipped=args.zip, n_sample=args.sample or 0, seed=args.seed)
    out = Path(args.out) if args.out else Path("runs") / f"{load_scenario(base).name}-sweep"
    toml_dir = write_points(plan, out)
    runs_dir = out / "runs" if args.keep_runs else None
    todo = len(to_solve(plan, cache_dir=out / "cache", runs_dir=runs_dir))
    local = args.workers == 0 or not todo  # nothing to solve: no cluster to start
    where = ("this process" if local else args.scheduler
             or f"a local Dask cluster of {args.workers or 'one process per core'}")  # fmt: skip
    print(f"sweep of {len(plan.specs)} point(s) of {base}, {todo} to solve ("
          f"{len(plan.specs) - todo} stored) on {where}; results in {out}/",
          file=sys.stderr)  # fmt: skip
    client_cm = (contextlib.nullcontext(None) if local
                 else dask_client(args.scheduler, workers=args.workers,
                                  preload=WORKER_MODULES))  # fmt: skip
    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(client_cm)
        except OSError as exc:
            raise FreightError(f"no Dask scheduler answers at {args.scheduler}: {exc}") from None
        sweep = run_sweep(base, plan, client, _progress_bar(plan.keys), cache_dir=out / "cache",
                          runs_dir=runs_dir, toml_dir=toml_dir, warm=args.warm)  # fmt: skip
    meta = write_sweep(sweep, out)
    render_sweep(out)
    _print_sweep(sweep, meta, HEADLINES)
    print(f"\nresults in {out}/ (sweep.html, sweep.csv, sweep.parquet, mac.csv, points/)")
    return 1 if meta["counts"]["error"] else 0


def _progress_bar(keys):  # type: ignore[no-untyped-def]
    """A line on stderr per finished point: a bar, the count, the point, its status."""

    def show(done: int, total: int, r) -> None:  # type: ignore[no-untyped-def]
        width = 24
        fill = round(width * done / total)
        what = ", ".join(f"{k.rsplit('.', 1)[-1]}={v:g}" if isinstance(v, float)
                         else f"{k.rsplit('.', 1)[-1]}={v}" for k, v in r.overrides.items())
        how = "stored" if r.cached else f"{r.seconds:.1f} s"
        print(f"[{'#' * fill}{'.' * (width - fill)}] {done:>{len(str(total))}}/{total} "
              f"{_clip(what, 48).rstrip()}  {r.status} ({how})", file=sys.stderr, flush=True)
        if r.status != "optimal" and not r.cached:
            print(f"    {r.error[:300]}", file=sys.stderr, flush=True)

    return show


def _print_sweep(sweep, meta, headlines) -> None:  # type: ignore[no-untyped-def]
    """The points and their headline figures (or their spread over the draws)."""
    counts = meta["counts"]
    print(f"\n{len(sweep.results)} points: " + ", ".join(f"{n} {s}" for s, n in counts.items()
                                                     if n))  # fmt: skip
    heads = headlines[:4]
    if not sweep.plan.drawn_keys:
        keys = sweep.plan.keys
        widths = [max(12, len(k.rsplit(".", 1)[-1]) + 2) for k in keys]
        print("".join(f"{k.rsplit('.', 1)[-1]:>{w}}" for k, w in zip(keys, widths, strict=True))
              + f"{'status':>13}"
              + "".join(f"{_clip(h[2].split(' (')[0], 22):>24}" for h in heads))  # fmt: skip
        for r in sweep.results:
            vals = "".join(f"{_num(r.overrides.get(k)):>{w}}"
                           for k, w in zip(keys, widths, strict=True))  # fmt: skip
            figs = "".join(f"{_num(r.figures.get(h[0])):>24}" for h in heads)
            print(f"{vals}{r.status:>13}{figs}")
        print("(" + "; ".join(f"{h[2]}, {h[3]}" for h in heads) + ")")
        return
    print(f"\n{'figure':<58}{'P10':>16}{'P50':>16}{'P90':>16}  driven most by (Spearman)")
    for col, _zh, en, unit in headlines:
        st = meta["headlines"][col]
        drv = st["drivers"][0] if st["drivers"] else None
        d = f"{drv['parameter']} ({drv['spearman']:+.2f})" if drv else "—"
        print(f"{_clip(f'{en}, {unit}', 58)}{_num(st['p10']):>16}{_num(st['p50']):>16}"
              f"{_num(st['p90']):>16}  {d}")


def _num(v) -> str:  # type: ignore[no-untyped-def]
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if isinstance(v, float):
        if abs(v) < 1e-9:  # float noise of a difference
            return "0"
        if v.is_integer() and abs(v) < 100:
            return str(int(v))
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.4g}"
    return str(v)

def _cmd_serve(args: argparse.Namespace) -> int:
    from workbench.cli import serve

    return serve(args)


def _cmd_users(args: argparse.Namespace) -> int:
    from workbench.cli import users

    return users(args)


def _add_workbench_commands(sub) -> None:  # type: ignore[no-untyped-def]
    """``serve`` and ``users``: the workbench (package ``workbench``, imported only when
    one of them runs)."""
    from workbench.cli import add_arguments

    p = sub.add_parser("serve", help="start the workbench (web application) in the browser")
    add_arguments(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the local cluster (default: one per core, ≤ 8)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                   help="proxies whose X-Forwarded-* headers are trusted (https behind nginx)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("users", help="workbench accounts: add, set, list")
    p.add_argument("action", choices=("add", "set", "list"))
    p.add_argument("name", nargs="?", help="user name (a-z, 0-9, _ . -)")
    add_arguments(p)
    p.add_argument("--role", choices=("viewer", "analyst", "admin"), default=None,
                   help="viewer looks; analyst runs and derives; admin manages users")
    p.add_argument("--password", action="store_true", help="with set: ask for a new password")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input")
    p.add_argument("--disable", action="store_true", help="with set: the user can no longer log in")
    p.add_argument("--enable", action="store_true", help="with set: the user can log in again")
    p.set_defaults(func=_cmd_users)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freight",
        description="Bulk-freight road-to-rail/pipeline (公转铁) optimiser for the flows of a "
        "scenario (a city's places, flows and networks; the embedded default is Liaocheng).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("networks", help="per mode: nodes, edges, km, components")
    p.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--check",
        action="store_true",
        help="check the topology of the scenario's road, rail and pipeline layers instead: "
        "dead ends near a line they do not join, crossings without a junction, "
        "self-intersections, length_km far from the geometry, long straight segments",
    )
    p.add_argument("--near-m", type=float, default=150.0, metavar="M",
                   help="with --check: list dead ends within M metres of a line (default 150)")
    p.add_argument("--examples", type=int, default=5, metavar="N",
                   help="with --check: print the worst N of each finding (default 5)")
    p.set_defaults(func=_cmd_networks)

    p = sub.add_parser("route", help="shortest distance between two places")
    p.add_argument("origin", help="place id, place name, or lon,lat")
    p.add_argument("destination", help="place id, place name, or lon,lat")
    p.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    p.add_argument("--mode", choices=("road", "rail", "pipeline"), default="road")
    p.add_argument("--json", action="store_true", help='print {"km", "mode", "lines"}')
    p.set_defaults(func=_cmd_route)

    p = sub.add_parser(
        "locate",
        help="nearest point of each network to a lon,lat or a place, and whether a place "
        "there would be joined",
    )
    p.add_argument("point", metavar="POINT_OR_PLACE",
                   help="lon,lat in WGS84 degrees (e.g. 116.30,37.45), or a place id or name")
    p.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_locate)

    p = sub.add_parser(
        "validate",
        help="every check run makes before solving, all problems at once; then each place's "
        "link distance, where added lines join, and warnings",
    )
    p.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("run", help="optimise a scenario and write the result folder")
    p.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    p.add_argument("--out", help="result folder (default: runs/<scenario name>)")
    p.add_argument("--solver", choices=("highs", "cbc"), help="override the scenario's solver")
    p.add_argument(
        "--tiles",
        default=None,
        help="map background: none (default), OpenStreetMap, or a tile URL template "
        "such as http://intranet/tiles/{z}/{x}/{y}.png",
    )
    p.add_argument("--export-lp", metavar="PATH", help="write the final LP as MPS")
    p.add_argument("--no-maps", action="store_true", help="skip map.html and report.html")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --out even when it is a non-empty folder that is not a result folder",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "calibrate",
        help="find the smallest change to the [calibration] cost parameters that makes "
        "today's choices least-cost without the rule; writes calibrated.toml",
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: embedded Liaocheng)")
    p.add_argument("--out", help="output folder (default: runs/<scenario name>-calibration)")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser(
        "sweep",
        help="run a scenario at many points (a grid over its keys, or Monte-Carlo draws of "
        "its [calibration.parameters] ranges) on Dask; writes sweep.csv, sweep.parquet, "
        "mac.csv and sweep.html",
    )
    p.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    p.add_argument("--vary", action="append", metavar="KEY=VALUES",
                   help="a dotted scenario key and its values: a range start:stop:step "
                   "(policy.threshold_km=200:800:50) or a list a,b,c; repeat for more keys "
                   "(crossed)")  # fmt: skip
    p.add_argument("--zip", action="store_true",
                   help="take the i-th value of every --vary together instead of crossing")
    p.add_argument("--sample", type=int, metavar="N",
                   help="N Monte-Carlo draws of every [calibration.parameters] range "
                   "(uniform, or triangular around the scenario's value); crossed with "
                   "the --vary grid")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="a Dask scheduler (tcp://host:8786); default: a local cluster")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes of the local cluster (default: one per core); 0 solves "
                   "in this process, without Dask")  # fmt: skip
    p.add_argument("--out", help="sweep folder (default: runs/<scenario name>-sweep)")
    p.add_argument("--keep-runs", action="store_true",
                   help="also keep each point's whole result folder in <out>/runs/")
    p.add_argument("--warm", action="store_true",
                   help="start each point from the nearest point solved on the same worker "
                   "(faster at scale; where assignments tie in cost it may report another "
                   "of them than freight run would)")  # fmt: skip
    p.set_defaults(func=_cmd_sweep)

    _add_workbench_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``freight`` command."""
    args = build_parser().parse_args(argv)
    try:
        with _sigterm_unwinds():
            return int(args.func(args))
    except KeyboardInterrupt:
        print("freight: interrupted (Ctrl-C); no result folder was left half-written",
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    except Terminated:
        print("freight: terminated (SIGTERM); no result folder was left half-written",
              file=sys.stderr)  # fmt: skip
        return EXIT_TERMINATED
    except InputErrors as exc:
        for e in exc.errors:
            print(e.line(), file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(exc.line(), file=sys.stderr)
        return EXIT_INPUT
    except InfeasibleError as exc:
        print(f"infeasible: {exc}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except FreightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
