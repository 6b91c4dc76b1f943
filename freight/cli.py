"""The ``freight`` command: networks, route, validate, run.

Exit codes: 0 success; 2 input error (one line per problem on stderr, naming file, row or
feature, and field; also a result folder that may not or cannot be replaced); 3 the
capacities cannot carry the flows under the rule; 1 anything else (the solver ended
without an optimum, another run is writing the folder); 130 interrupted (Ctrl-C), 143
terminated (SIGTERM) -- one line, and no result folder half-written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
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
    from freight.checks import validate

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
        force=args.force,
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
    p.set_defaults(func=_cmd_networks)

    p = sub.add_parser("route", help="shortest distance between two places")
    p.add_argument("origin", help="place id, place name, or lon,lat")
    p.add_argument("destination", help="place id, place name, or lon,lat")
    p.add_argument("scenario", nargs="?", help="scenario TOML (default: embedded Liaocheng)")
    p.add_argument("--mode", choices=("road", "rail", "pipeline"), default="road")
    p.add_argument("--json", action="store_true", help='print {"km", "mode", "lines"}')
    p.set_defaults(func=_cmd_route)

    p = sub.add_parser("validate", help="every check run makes before solving, all at once")
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
    p.add_argument(
        "--force",
        action="store_true",
        help="replace --out even when it is a non-empty folder that is not a result folder",
    )
    p.set_defaults(func=_cmd_run)
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
