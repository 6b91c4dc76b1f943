"""The points of a sweep: a grid over scenario keys, Monte-Carlo draws, and each point as
a diff of the base scenario.

A *point* is a few dotted keys set over the base scenario, exactly as a scenario that
``extends`` the base would set them (:func:`freight.scenario.load_scenario`'s
``overrides``), so every point can be written as a small TOML file and re-run alone with
``freight run`` (:func:`point_toml`). Points come from a grid (:func:`parse_vary`,
:func:`grid`: ranges ``200:800:50`` and lists ``a,b,c``, crossed or zipped) and/or from
Monte-Carlo draws within the ranges a scenario's ``[calibration.parameters]`` declare
(:func:`sample`). :func:`make_plan` checks every point against the scenario (all problems
at once, before anything is solved) and gives each a name and the key its result is
stored under (:func:`point_key`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from networks import InputError, InputErrors

if TYPE_CHECKING:
    from freight.scenario import Scenario

#: Most points a grid may make (a typo such as ``0:1e6:1`` stops here, not after a day).
MAX_POINTS = 10_000
#: Bump when what a stored point holds changes, so older stored points are not used.
RESULT_VERSION = "sweep-1"
# --- points ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Vary:
    """One ``--vary KEY=VALUES``: a dotted scenario key and the values it takes."""

    key: str
    values: tuple[Any, ...]


def _value(text: str) -> Any:
    """A list item: a number (as float), true/false, or the text itself."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return float(Decimal(t))
    except InvalidOperation:
        return t


def parse_vary(spec: str) -> Vary:
    """``KEY=VALUES``: a range ``start:stop:step`` (both ends included when the steps land
    on ``stop``) or a list ``a,b,c``.

    Examples
    --------
    >>> parse_vary("policy.threshold_km=200:400:100").values
    (200.0, 300.0, 400.0)
    >>> parse_vary("policy.enforcement=hard,soft").values
    ('hard', 'soft')

    Raises
    ------
    InputError
        Not ``KEY=VALUES``, a range that is not three numbers with a positive step and
        start ≤ stop, or more than :data:`MAX_POINTS` values.
    """
    key, eq, text = spec.partition("=")
    key = key.strip()

    def bad(problem: str) -> InputError:
        return InputError("--vary", repr(spec), key or "KEY", problem)

    if not eq or not key or not text.strip():
        raise bad("expected KEY=VALUES, e.g. policy.threshold_km=200:800:50 or "
                  "costs.road.cny_per_tkm=0.25,0.30")  # fmt: skip
    if ":" in text:
        parts = text.split(":")
        try:
            start, stop, step = (Decimal(p.strip()) for p in parts)
        except (InvalidOperation, ValueError):
            raise bad("a range is start:stop:step, three numbers, e.g. 200:800:50") from None
        if not step > 0 or start > stop or not all(x.is_finite() for x in (start, stop, step)):
            raise bad("a range needs a step > 0 and start ≤ stop")
        count = int((stop - start) / step) + 1
        if count > MAX_POINTS:
            raise bad(f"{count:,} values: at most {MAX_POINTS:,}")
        values: tuple[Any, ...] = tuple(float(start + i * step) for i in range(count))
    else:
        values = tuple(_value(v) for v in text.split(","))
        if any(v == "" for v in values):
            raise bad("an empty value in the list")
    return Vary(key, values)


def grid(varies: Sequence[Vary], *, zipped: bool = False) -> list[dict[str, Any]]:
    """Points of a grid: every combination of the values (the first key varying slowest),
    or, ``zipped``, the i-th value of each key together.

    Raises
    ------
    InputError
        A key given twice; zipped lists of different lengths; more than
        :data:`MAX_POINTS` points.
    """
    keys = [v.key for v in varies]
    for k in {k for k in keys if keys.count(k) > 1}:
        raise InputError("--vary", "command line", k, "given twice; give one list of values")
    if zipped:
        lengths = {len(v.values) for v in varies}
        if len(lengths) > 1:
            raise InputError("--zip", "command line", ", ".join(keys),
                             "zipped keys need as many values each; got "
                             + ", ".join(f"{v.key}: {len(v.values)}" for v in varies))  # fmt: skip
        combos: Iterable[tuple[Any, ...]] = zip(*(v.values for v in varies), strict=True)
    else:
        n = math.prod(len(v.values) for v in varies)
        if n > MAX_POINTS:
            raise InputError("--vary", "command line", ", ".join(keys),
                             f"{n:,} combinations: at most {MAX_POINTS:,}")  # fmt: skip
        combos = itertools.product(*(v.values for v in varies))
    return [dict(zip(keys, c, strict=True)) for c in combos]


def sample(scenario: Scenario, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` Monte-Carlo draws of every parameter the scenario's
    ``[calibration.parameters]`` declare, each within its ``lower``/``upper``: uniform, or
    triangular with the scenario's value as mode (``distribution``). Independent draws,
    parameters taken in key order from one ``numpy`` generator seeded with ``seed``, so
    the same scenario, ``n`` and ``seed`` give the same points.

    Raises
    ------
    InputError
        The scenario declares no range to draw from, or ``n`` < 1.
    """
    import numpy as np

    params = sorted(scenario.calibration.parameters if scenario.calibration else (),
                    key=lambda p: p.key)  # fmt: skip
    if n < 1:
        raise InputError("--sample", "command line", "N", f"expected a number ≥ 1, got {n}")
    if not params:
        raise InputError(scenario.path, "[calibration.parameters]", "(table)",
                         "no parameter declares a range (lower, upper) to draw --sample from; "
                         'add [calibration.parameters."<key>"] tables')  # fmt: skip
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for p in params:
        if p.lower == p.upper:
            draws[p.key] = [p.lower] * n
        elif p.distribution == "triangular":
            mode = float(scenario.parameters[p.key].value)  # type: ignore[arg-type]
            draws[p.key] = rng.triangular(p.lower, mode, p.upper, n).tolist()
        else:
            draws[p.key] = rng.uniform(p.lower, p.upper, n).tolist()
    return [{k: float(v[i]) for k, v in draws.items()} for i in range(n)]


@dataclass(frozen=True)
class PointSpec:
    """One point as the engine sends it: its place in the sweep, its diff of the base,
    the name of its scenario (and of its TOML and result folder) and its result key."""

    index: int
    name: str
    overrides: dict[str, Any]
    key: str
    draw: int | None = None
    network_key: str = ""


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def point_name(base_name: str, grid_overrides: Mapping[str, Any], draw: int | None,
               index: int) -> str:  # fmt: skip
    """A folder-safe, readable name: the base's, then each grid key's last part and value
    (``liaocheng-2019-threshold_km=300``), then ``draw0007`` for a Monte-Carlo draw."""
    lasts = [k.rsplit(".", 1)[-1] for k in grid_overrides]
    parts = []
    for k, last in zip(grid_overrides, lasts, strict=True):
        label = last if lasts.count(last) == 1 else k
        parts.append(f"{label}={_fmt_value(grid_overrides[k])}")
    if draw is not None:
        parts.append(f"draw{draw:04d}")
    slug = re.sub(r'[/\\:*?"<>|\s]', "_", "-".join(parts)) or f"p{index:04d}"
    if len(slug) > 80:
        slug = f"p{index:04d}"
    return f"{base_name}-{slug}"


def _source_digest() -> str:
    h = hashlib.sha256(RESULT_VERSION.encode())
    root = Path(__file__).resolve().parents[1]
    for pkg in ("networks", "freight", "maps"):
        for src in sorted((root / pkg).glob("*.py")):
            h.update(src.name.encode())
            h.update(src.read_bytes())
    return h.hexdigest()


# Taken when this module is imported, as networks.loading takes its own: the digest of the
# code this process runs, not of files edited on disk since (a result stored under a key
# must come from the code the key names). ~60 small files, a few milliseconds.
_CODE_DIGEST = _source_digest()


def code_digest() -> str:
    """SHA-256 of the source of the packages a point's result depends on (networks,
    freight, maps) as this process imported them: a change of code is a new result."""
    return _CODE_DIGEST


def _file_digest(path: str, memo: dict[str, str]) -> str:
    if path not in memo:
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            h.update(b"<missing>")
        memo[path] = h.hexdigest()
    return memo[path]


def scenario_files(scenario: Scenario) -> list[str]:
    """Every file a run of ``scenario`` reads besides its TOML files (layers, tables)."""
    net = scenario.network
    files = [net.road, net.rail, net.pipeline, net.rail_lines, net.rail_line_stations,
             *net.places, *net.extra_lines, scenario.counties, scenario.flows_file,
             scenario.commodities_file]  # fmt: skip
    return [str(f) for f in files if f]


def point_key(scenario: Scenario, memo: dict[str, str] | None = None) -> str:
    """The key a point's result is stored under: SHA-256 of every parameter in effect
    (values, not where they came from), the investments, the bytes of every input file
    and the code (:func:`code_digest`). Two points with the same key give the same result."""
    memo = {} if memo is None else memo
    doc = {
        "code": code_digest(),
        "parameters": {k: repr(p.value) for k, p in scenario.parameters.items()},
        "investments": [i.as_dict() for i in scenario.investments],
        "files": {f: _file_digest(f, memo) for f in scenario_files(scenario)},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    """The points of a sweep, checked: the base scenario, each point's spec, the keys set
    on a grid and those drawn (with the seed of the draws)."""

    base: Path
    specs: tuple[PointSpec, ...]
    grid_keys: tuple[str, ...]
    drawn_keys: tuple[str, ...] = ()
    seed: int | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.grid_keys, *(k for k in self.drawn_keys if k not in self.grid_keys))


def make_plan(
    base: str | Path,
    points: Sequence[Mapping[str, Any]],
    *,
    draws: Sequence[int | None] = (),
    drawn_keys: Sequence[str] = (),
    seed: int | None = None,
) -> Plan:
    """Check every point against the scenario (all problems at once) and give each its
    name and key (``draws``: the draw each point comes from, None for none).

    Raises
    ------
    InputErrors
        Every override the scenario rejects, naming the point.
    """
    from freight.scenario import load_scenario
    from networks.loading import cache_key

    base = Path(base).resolve()
    base_scenario = load_scenario(base)
    memo: dict[str, str] = {}
    net_keys: dict[str, str] = {}
    errors: list[InputError] = []
    out: list[PointSpec] = []
    for i, over in enumerate(points):
        draw = draws[i] if i < len(draws) else None
        shown = {k: v for k, v in over.items() if k not in drawn_keys}
        name = point_name(base_scenario.name, shown, draw, i)
        try:
            sc = load_scenario(base, {**over, "name": name})
        except InputErrors as exc:
            for e in exc.errors:
                errors.append(InputError(e.file, f"point {i} ({_describe(over)}): {e.where}",
                                         e.field, e.problem))  # fmt: skip
            continue
        config = repr(sc.network)  # a NetworkConfig holds a dict: not hashable
        if config not in net_keys:
            net_keys[config] = cache_key(sc.network)
        out.append(PointSpec(i, name, dict(over), point_key(sc, memo), draw,
                             net_keys[config]))  # fmt: skip
    if errors:
        raise InputErrors(errors)
    names = [p.name for p in out]
    if len(set(names)) < len(names):  # equal points: names unique by position
        out = [replace(p, name=f"{p.name}-p{p.index:04d}") for p in out]
    grid_keys = tuple(dict.fromkeys(k for o in points for k in o if k not in drawn_keys))
    return Plan(base, tuple(out), grid_keys, tuple(drawn_keys), seed)


def plan_sweep(
    base: str | Path,
    varies: Sequence[Vary] = (),
    *,
    zipped: bool = False,
    n_sample: int = 0,
    seed: int = 0,
) -> Plan:
    """The plan of ``freight sweep``: the grid of ``varies`` (crossed, or ``zipped``),
    crossed with ``n_sample`` Monte-Carlo draws (:func:`sample`) when asked for (each grid
    point with the same draws).

    Raises
    ------
    InputError, InputErrors
        A bad ``--vary``/``--sample``, or a point the scenario rejects.
    """
    from freight.scenario import load_scenario

    grid_points = grid(varies, zipped=zipped) if varies else [{}]
    if not n_sample:
        if not varies:
            raise InputError("freight sweep", "command line", "--vary",
                             "nothing to sweep: give --vary KEY=VALUES or --sample N")  # fmt: skip
        return make_plan(base, grid_points)
    drawn = sample(load_scenario(base), n_sample, seed)
    drawn_keys = list(drawn[0])
    both = sorted(set(drawn_keys) & {v.key for v in varies})
    if both:
        raise InputError("--vary", "command line", ", ".join(both),
                         "is drawn by --sample too (it has a [calibration.parameters] "
                         "range); vary it or draw it, not both")  # fmt: skip
    points = [{**g, **d} for g in grid_points for d in drawn]
    draws = [i for _ in grid_points for i in range(n_sample)]
    return make_plan(base, points, draws=draws, drawn_keys=drawn_keys, seed=seed)


def _describe(overrides: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_fmt_value(v)}" for k, v in overrides.items()) or "the base"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def point_toml(base: Path, spec: PointSpec, folder: Path, *, note: str = "") -> str:
    """The TOML of a point: ``extends`` the base (relative to ``folder``), sets its name
    and each override, so ``freight run <folder>/<name>.toml`` runs that point alone."""
    rel = os.path.relpath(Path(base).resolve(), Path(folder).resolve())
    lines = [
        f"# freight sweep, point {spec.index}{note}: re-run it alone with",
        f"#   freight run {folder / (spec.name + '.toml')}",
        f"extends = {_toml_value(Path(rel).as_posix())}",
        f"name = {_toml_value(spec.name)}",
    ]
    tables: dict[str, list[str]] = {}
    for dotted, value in spec.overrides.items():
        *parents, last = dotted.split(".")
        bare = re.fullmatch(r"[A-Za-z0-9_-]+", last)
        keytxt = last if bare else json.dumps(last, ensure_ascii=False)
        section = ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else json.dumps(p)
                           for p in parents)  # fmt: skip
        tables.setdefault(section, []).append(f"{keytxt} = {_toml_value(value)}")
    for section, items in tables.items():
        lines.append("")
        if section:
            lines.append(f"[{section}]")
        lines.extend(items)
    return "\n".join(lines) + "\n"


