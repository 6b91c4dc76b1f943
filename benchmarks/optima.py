"""Write the result folders of the shipped scenarios and the generated sizes, and compare
two such sets file by file: a change to the solver that claims "same optima" runs this on
the code before and after it.

``python -m benchmarks.optima write OUT [--sizes tiny,small,mid,large]``
    ``freight.run.run`` (maps not drawn) on every ``data/liaocheng/*.toml``,
    ``examples/your-city/*.toml`` and each generated size, into ``OUT/<name>/``.
``python -m benchmarks.optima compare A B``
    Every result file of ``A/<name>/`` against ``B/<name>/``: byte for byte, but for the
    solver's seconds in ``summary.json`` (``solver.seconds``, ``solver.without_rule.seconds``),
    the one thing two runs of one scenario may write differently. Exit 1 on a difference.

Run it from the repository root; for the code before a change, from an unpacked copy of
that commit (``git archive <commit> | tar -x -C DIR``), so each imports its own
``freight``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.generate import INSTANCES, ensure

ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("summary.json", "flows.csv", "links.geojson", "bottlenecks.csv", "terminals.csv")


def scenarios(sizes: list[str]) -> dict[str, Path]:
    """Name -> scenario TOML of every shipped scenario and generated size."""
    out = {p.stem: p for p in sorted((ROOT / "data" / "liaocheng").glob("*.toml"))}
    out |= {f"example-{p.stem}": p for p in sorted((ROOT / "examples").glob("*/*.toml"))}
    for size in sizes:
        out[f"generated-{size}"] = ensure(size, seed=0, root=INSTANCES)
    return out


def write(out: Path, sizes: list[str]) -> None:
    from freight.progress import Progress
    from freight.run import run

    for name, toml in scenarios(sizes).items():
        print(f"{name}: {toml}", file=sys.stderr, flush=True)
        run(toml, out / name, maps=False, progress=Progress(None), force=True)


def _without_seconds(summary: dict[str, Any]) -> dict[str, Any]:
    solver = summary.get("solver") or {}
    solver.pop("seconds", None)
    (solver.get("without_rule") or {}).pop("seconds", None)
    return summary


def compare(a: Path, b: Path) -> list[str]:
    """The files that differ between the result sets ``a`` and ``b`` (empty: the same)."""
    bad = []
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    for name in names:
        for file in COMPARED:
            fa, fb = a / name / file, b / name / file
            if not fa.exists() or not fb.exists():
                bad.append(f"{name}/{file}: missing on one side")
                continue
            if file == "summary.json":
                same = _without_seconds(json.loads(fa.read_text(encoding="utf-8"))) == (
                    _without_seconds(json.loads(fb.read_text(encoding="utf-8"))))
            else:
                same = fa.read_bytes() == fb.read_bytes()
            if not same:
                bad.append(f"{name}/{file}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.optima", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--sizes", default="tiny,small,mid,large")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "write":
        write(args.out, [s for s in args.sizes.split(",") if s])
        return 0
    bad = compare(args.a, args.b)
    for line in bad:
        print(f"differs: {line}")
    n = len(list(args.a.iterdir()))
    print(f"{n} result folders compared, {len(COMPARED)} files each: "
          + ("identical" if not bad else f"{len(bad)} differ"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
