"""The ``freight`` command: networks, route, validate, run.

Exit codes: 0 success, 2 input error (one line per problem on stderr, naming file, row or
feature, and field), 3 a hard rule that the capacities cannot satisfy, 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from networks import FreightError, InfeasibleError, InputError, InputErrors

EXIT_INPUT = 2
EXIT_INFEASIBLE = 3


def default_scenario() -> Path:
    """The embedded Liaocheng base-year scenario shipped in ``data/``."""
    return Path(__file__).resolve().parents[1] / "data" / "liaocheng" / "liaocheng-2019.toml"


def _scenario_arg(value: str | None) -> Path:
    path = Path(value) if value else default_scenario()
    if not path.exists():
        raise InputError(str(path), "file", "SCENARIO", "file not found")
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


def _cmd_validate(args: argparse.Namespace) -> int:
    from freight.scenario import validate

    problems = validate(_scenario_arg(args.scenario))
    if problems:
        for p in problems:
            print(p.line(), file=sys.stderr)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return EXIT_INPUT
    print("scenario is valid")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from freight.run import print_table, run

    result = run(
        _scenario_arg(args.scenario),
        Path(args.out) if args.out else None,
        tiles=args.tiles,
        export_lp=Path(args.export_lp) if args.export_lp else None,
        solver=args.solver,
        maps=not args.no_maps,
    )
    print_table(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freight",
        description="Liaocheng bulk-freight road-to-rail/pipeline (公转铁) optimiser.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("networks", help="per mode: nodes, edges, km, components")
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: embedded Liaocheng)")
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
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: embedded Liaocheng)")
    p.add_argument("--mode", choices=("road", "rail", "pipeline"), default="road")
    p.add_argument("--json", action="store_true", help='print {"km", "mode", "lines"}')
    p.set_defaults(func=_cmd_route)

    p = sub.add_parser("validate", help="list every problem in a scenario at once")
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: embedded Liaocheng)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("run", help="optimise a scenario and write the result folder")
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: embedded Liaocheng)")
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
    p.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``freight`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
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
