"""Scenarios in the workbench: the shipped ones, uploaded folders, derived scenarios.

Every scenario the workbench owns lives in its own folder ``<data dir>/scenarios/<slug>/``
(R). R holds a link ``data`` to the checkout's shipped ``data/`` folder, made by the
workbench, so a scenario there names the shipped layers the way the shipped example does:

- an **upload** is unpacked into ``R/upload/<folder>/`` -- the zip's one top folder, or the
  slug when its files lie at the top -- so ``../../data/north_china/road.geojson.gz`` from
  its TOML reaches the shipped road layer, as from ``examples/your-city/``;
- a **derived** scenario is ``R/scenario.toml``: ``extends`` its base (``data/...`` for a
  shipped one) and sets the form's values as dotted keys, with a changed copy of a table
  beside it when the form changes a line's or a terminal's capacity or switches on a
  planned line. The planner downloads and reads that TOML.

An upload is refused, with one message and nothing left on disk or in the database, when
the zip is too large, escapes its folder (absolute paths, ``..``, links), is a zip bomb
(too many files, too many bytes unpacked, a compression ratio no data file has), names
a file outside its folder and the shipped data, or does not validate
(:func:`freight.scenario.validate`, then the network built and joined as ``freight
validate`` does, on the cluster).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import stat
import tomllib
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DATA = REPO_ROOT / "data"
SHIPPED_GLOBS = ("data/liaocheng/*.toml", "examples/*/*.toml")

#: Upload limits: a scenario folder is tables and a few small layers (the shipped
#: Liaocheng folder is 116 KB; the whole north-China road layer 0.6 MB compressed).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_FILES = 200
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Deflate gains at most ~1032× on any input; text tables and GeoJSON compress 3–20×.
#: Above this ratio a member (over 1 MiB unpacked) is taken for a bomb.
MAX_RATIO = 100.0
ALLOWED_SUFFIXES = frozenset(
    {
        ".toml",
        ".csv",
        ".geojson",
        ".json",
        ".gz",
        ".gpkg",
        ".shp",
        ".shx",
        ".dbf",
        ".prj",
        ".cpg",
        ".txt",
        ".md",
    }
)


class ScenarioRefused(Exception):
    """An upload or a derived scenario that is not accepted: ``str()`` is the one message;
    ``details`` the problems behind it (one line each)."""

    def __init__(self, message: str, details: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.details = list(details)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # raised on a Dask worker, it must come back with its details
        return (type(self), (str(self), self.details))


# --- shipped -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipped:
    slug: str
    path: Path
    title: str


def shipped_scenarios() -> list[Shipped]:
    """The scenarios of the checkout: ``data/liaocheng/*.toml`` and ``examples/*/*.toml``."""
    from freight.scenario import load_scenario

    out = []
    for pattern in SHIPPED_GLOBS:
        for path in sorted(REPO_ROOT.glob(pattern)):
            try:
                title = load_scenario(path).title
            except Exception:  # a shipped scenario that does not load is not offered
                continue
            out.append(Shipped(slug=path.stem, path=path, title=title))
    return out


def slugify(text: str, taken: Iterable[str] = ()) -> str:
    """A folder-safe slug (a–z, 0–9, ``-``) not in ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "scenario"
    taken = set(taken)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def make_root(data_dir: Path, slug: str) -> Path:
    """A fresh ``<data dir>/scenarios/<slug>`` with its ``data`` link to the shipped data."""
    root = Path(data_dir) / "scenarios" / slug
    root.mkdir(parents=True, exist_ok=False)
    (root / "data").symlink_to(SHIPPED_DATA, target_is_directory=True)
    return root


# --- checks shared by uploads and derived scenarios ------------------------------------------


def _inside(path: str | Path, roots: Iterable[Path]) -> bool:
    p = Path(os.path.normpath(Path(path).absolute()))
    return any(p == r or r in p.parents for r in roots)


_PATH_KEYS = (
    ("network", "road"), ("network", "rail"), ("network", "pipeline"),
    ("network", "rail_lines"), ("network", "rail_line_stations"), ("network", "counties"),
    ("network", "places"), ("network", "extra_lines"), ("flows", "file"), ("commodities", "file"),
)  # fmt: skip


def named_files(toml_path: Path) -> list[Path]:
    """Every file a scenario TOML and the files it ``extends`` name, read as text before
    any of them is opened: the TOMLs of the chain and their layer and table paths,
    resolved against the file that names them, lexically normalised."""
    out: list[Path] = []
    path = Path(os.path.normpath(toml_path.absolute()))
    seen: set[Path] = set()
    while path not in seen:
        seen.add(path)
        out.append(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            break  # validate() names the problem
        for section, key in _PATH_KEYS:
            table = data.get(section)
            value = table.get(key) if isinstance(table, dict) else None
            values = value if isinstance(value, list) else [value]
            out += [Path(os.path.normpath(path.parent / v)) for v in values if isinstance(v, str)]
        ext = data.get("extends")
        if not isinstance(ext, str):
            break
        path = Path(os.path.normpath(path.parent / ext))
    return out


def check_scenario(toml_path: str, roots: list[str]) -> list[str]:
    """Validate a scenario as ``freight validate`` does and return its warnings.

    Runs on a Dask worker (it builds the network). First, before any file is opened,
    every file the scenario and its ``extends`` chain name must lie under one of
    ``roots`` (its folder and the shipped data); then :func:`freight.scenario.validate`;
    then the network is built and joined.

    Raises
    ------
    ScenarioRefused
        With every problem as a detail line.
    """
    from freight.run import load_network_for
    from freight.scenario import validate
    from networks import FreightError
    from networks.locate import link_report

    path = Path(toml_path)
    allowed = [Path(os.path.normpath(Path(r).absolute())) for r in roots]
    outside = [str(p) for p in named_files(path) if not _inside(p, allowed)]
    if outside:
        raise ScenarioRefused(
            "场景引用了其文件夹以外的文件 / the scenario names a file outside its folder and "
            f"the shipped data: {outside[0]}",
            outside,
        )
    problems = [p.line() for p in validate(path)]
    if problems:
        raise ScenarioRefused(
            f"场景未通过校验 / the scenario does not validate ({len(problems)} problem(s)): "
            f"{problems[0]}",
            problems,
        )
    try:
        scenario, network = load_network_for(path)
    except FreightError as exc:
        lines = str(exc).splitlines() or [type(exc).__name__]
        raise ScenarioRefused(
            f"场景的路网无法建立 / the scenario's network cannot be built: {lines[0]}", lines
        ) from None
    _, warnings = link_report(network, tolerance_km=scenario.network.link_tolerance_km)
    return [w.message for w in warnings]


# --- uploads -------------------------------------------------------------------------------


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"{name}: 压缩包含符号链接 / a symbolic link"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        return f"{name}: 绝对路径 / an absolute or Windows path"
    if ".." in PurePosixPath(name).parts:
        return f"{name}: 路径跳出文件夹 / a path that escapes the folder ('..')"
    return None


def _junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(p == "__MACOSX" or p.startswith(".") for p in parts)


def unpack_upload(zip_path: Path, dest: Path) -> Path:
    """Check and unpack a scenario zip into ``dest/<folder>/``; return the scenario TOML.

    Raises :class:`ScenarioRefused` (before writing anything for every check the zip's
    directory allows; while writing when a member unpacks to more than it declared).
    """
    if zip_path.stat().st_size > MAX_UPLOAD_BYTES:
        raise ScenarioRefused(
            f"压缩包超过 {MAX_UPLOAD_BYTES // 2**20} MB / the zip is larger "
            f"than {MAX_UPLOAD_BYTES // 2**20} MB"
        )
    if not zipfile.is_zipfile(zip_path):
        raise ScenarioRefused("不是 zip 压缩包 / the file is not a zip archive")
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
        problems = [p for p in map(_member_problem, infos) if p]
        if problems:
            raise ScenarioRefused(
                f"压缩包的路径不安全 / the zip escapes its folder: {problems[0]}", problems
            )
        files = [i for i in infos if not i.is_dir() and not _junk(i.filename)]
        if len(files) > MAX_FILES:
            raise ScenarioRefused(
                f"压缩包文件过多 / the zip holds {len(infos)} files, more than {MAX_FILES}"
            )
        total = sum(i.file_size for i in files)
        if total > MAX_UNPACKED_BYTES:
            raise ScenarioRefused(
                f"解压后过大 (压缩炸弹?) / the zip unpacks to {total / 2**20:,.0f} MB, more "
                f"than {MAX_UNPACKED_BYTES // 2**20} MB (a zip bomb?)"
            )
        for i in files:
            if i.file_size > 2**20 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                ratio = i.file_size / max(i.compress_size, 1)
                raise ScenarioRefused(
                    f"压缩比异常 (压缩炸弹?) / {i.filename} unpacks {ratio:,.0f}× "
                    f"its packed size, more than {MAX_RATIO:.0f}× (a zip bomb?)"
                )
        bad = [
            i.filename
            for i in files
            if PurePosixPath(i.filename).suffix.lower() not in ALLOWED_SUFFIXES
        ]
        if bad:
            raise ScenarioRefused(
                f"不接受的文件类型 / a file a scenario does not use: {bad[0]} (allowed: "
                f"{', '.join(sorted(ALLOWED_SUFFIXES))})",
                bad,
            )
        tops = {PurePosixPath(i.filename).parts[0] for i in files}
        nested = len(tops) == 1 and all(len(PurePosixPath(i.filename).parts) > 1 for i in files)
        folder = dest / (tops.pop() if nested else dest.parent.name)
        tomls = [
            i.filename
            for i in files
            if i.filename.lower().endswith(".toml")
            and len(PurePosixPath(i.filename).parts) == (2 if nested else 1)
        ]
        if len(tomls) != 1:
            raise ScenarioRefused(
                "文件夹顶层须恰有一个 .toml 场景文件 / the folder needs exactly one scenario "
                f".toml at its top (found {len(tomls)}: {', '.join(tomls) or 'none'})"
            )
        written = 0
        for i in files:
            parts = PurePosixPath(i.filename).parts[1 if nested else 0 :]
            target = folder.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(i) as src, open(target, "xb") as out:
                left = i.file_size
                while chunk := src.read(min(2**16, left + 1)):
                    left -= len(chunk)
                    written += len(chunk)
                    if left < 0 or written > MAX_UNPACKED_BYTES:
                        raise ScenarioRefused(
                            f"{i.filename}: 解压后大于声明 / unpacks to more than its zip entry "
                            "declares (a zip bomb?)"
                        )
                    out.write(chunk)
        top = PurePosixPath(tomls[0]).parts[-1]
    return folder / top


# --- derived scenarios ---------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A Python value as TOML (strings, numbers, booleans, lists of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


@dataclass(frozen=True)
class Derivation:
    """What the derive form asks for; None leaves the base's value."""

    name: str
    title: str
    threshold_km: float | None = None
    enforcement: str | None = None
    penalty_cny_per_t: float | None = None
    commodities: tuple[str, ...] | None = None
    carbon_price_cny_per_t: float | None = None
    road_cny_per_tkm: float | None = None
    line_id: str | None = None
    line_capacity_t: float | None = None
    terminal_id: str | None = None
    terminal_capacity_t: float | None = None
    planned: tuple[str, ...] = ()  # "<file>#<feature index>" of planned lines to switch on


def planned_options(base_toml: Path) -> list[dict[str, str]]:
    """Planned added lines a shipped scenario has and ``base_toml`` does not: one option
    per feature (``key`` = ``<file>#<index>``)."""
    from freight.scenario import load_scenario

    have = set(load_scenario(base_toml).network.extra_lines)
    out, seen = [], set()
    for sh in shipped_scenarios():
        for f in load_scenario(sh.path).network.extra_lines:
            if f in have or f in seen or not f.endswith((".geojson", ".json")):
                continue
            seen.add(f)
            data = json.loads(Path(f).read_text(encoding="utf-8"))
            for k, feat in enumerate(data.get("features", [])):
                props = feat.get("properties") or {}
                if str(props.get("status", "planned")) != "planned":
                    continue
                out.append(
                    {
                        "key": f"{f}#{k}",
                        "name": str(props.get("name", f"#{k}")),
                        "name_en": str(props.get("name_en", "")),
                    }
                )
    return out


def line_options(base_toml: Path) -> list[dict[str, str]]:
    """The named rail lines of a scenario: id, name, capacity."""
    from freight.scenario import load_scenario

    f = load_scenario(base_toml).network.rail_lines
    if not f:
        return []
    rows = _read_table(Path(f))[1]
    return [
        {
            "id": r.get("line_id", ""),
            "name": r.get("name_zh", ""),
            "capacity_t": r.get("capacity_t", ""),
        }
        for r in rows
    ]


def terminal_options(base_toml: Path) -> list[dict[str, str]]:
    """The places of a scenario that are terminals (a non-road mode): id, name, capacity."""
    from freight.scenario import load_scenario

    out, seen = [], set()
    for f in load_scenario(base_toml).network.places:
        if not str(f).lower().endswith(".csv"):
            continue
        for r in _read_table(Path(f))[1]:
            modes = set((r.get("modes") or "").split(";")) - {"", "road"}
            if modes and r.get("id") and r["id"] not in seen:
                seen.add(r["id"])
                out.append(
                    {
                        "id": r["id"],
                        "name": r.get("name", ""),
                        "capacity_t": r.get("capacity_t", ""),
                    }
                )
    return out


def _read_table(path: Path) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """A CSV's header, rows (dicts) and raw lines (``#`` comments kept in place)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    data = [ln for ln in lines if not ln.lstrip().startswith("#") and ln.strip()]
    reader = csv.DictReader(io.StringIO("\n".join(data)))
    rows = list(reader)
    return list(reader.fieldnames or []), rows, lines


def _write_changed_table(
    src: Path, dest: Path, key: str, ident: str, changes: Mapping[str, str]
) -> bool:
    """Copy a CSV with the row whose ``key`` is ``ident`` changed; False if none is."""
    header, rows, _ = _read_table(src)
    hit = False
    for r in rows:
        if r.get(key) == ident:
            r.update(changes)
            hit = True
    if not hit:
        return False
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    dest.write_text(
        f"# {src.name} with {ident} changed by the workbench\n" + buf.getvalue(), encoding="utf-8"
    )
    return True


def _rel(path: str | Path, root: Path) -> str:
    """A path as the derived TOML at ``root`` names it: ``data/...`` for the shipped data
    (through the root's link), else relative to the root."""
    p = Path(os.path.normpath(Path(path).absolute()))
    if p == SHIPPED_DATA or SHIPPED_DATA in p.parents:
        return "data/" + p.relative_to(SHIPPED_DATA).as_posix()
    return Path(os.path.relpath(p, root)).as_posix()


def derive(  # noqa: C901, PLR0912, PLR0915 -- one block per kind of change a derivation may make, in the form's order
    base_toml: Path, base_title: str, d: Derivation, root: Path
) -> tuple[Path, dict[str, Any]]:
    """Write ``root/scenario.toml`` (and changed table copies) for the derivation ``d``;
    return the TOML and the overrides it sets (dotted keys). ``root`` exists and is empty
    but for its ``data`` link. Raises :class:`ScenarioRefused` when the result does not
    load (:func:`freight.scenario.load_scenario`)."""
    from freight.scenario import load_scenario
    from networks import InputError, InputErrors

    base = load_scenario(base_toml)
    over: dict[str, Any] = {}
    if d.threshold_km is not None:
        over["policy.threshold_km"] = float(d.threshold_km)
    if d.enforcement:
        over["policy.enforcement"] = d.enforcement
    if d.penalty_cny_per_t is not None:
        over["policy.penalty_cny_per_t"] = float(d.penalty_cny_per_t)
    if d.commodities is not None:
        over["policy.commodities"] = list(d.commodities)
    if d.carbon_price_cny_per_t is not None:
        over["costs.carbon_price_cny_per_t"] = float(d.carbon_price_cny_per_t)
    if d.road_cny_per_tkm is not None:
        over["costs.road.cny_per_tkm"] = float(d.road_cny_per_tkm)
    notes: list[str] = []
    if d.line_id and d.line_capacity_t is not None:
        src = base.network.rail_lines
        if not src:
            raise ScenarioRefused("基础场景没有线路表 / the base scenario has no rail_lines table")
        header = _read_table(Path(src))[0]
        changes = {"capacity_t": _num(d.line_capacity_t)}
        row = next((r for r in _read_table(Path(src))[1] if r.get("line_id") == d.line_id), None)
        if row and "trains_per_day" in header and (row.get("train_net_t") or "").strip():
            net = float(row["train_net_t"])
            changes["trains_per_day"] = repr(d.line_capacity_t / (net * 365.0))
        if not _write_changed_table(
            Path(src), root / "rail_lines.csv", "line_id", d.line_id, changes
        ):
            raise ScenarioRefused(f"没有线路 {d.line_id} / no line {d.line_id} in {src}")
        over["network.rail_lines"] = "rail_lines.csv"
        notes.append(f"rail_lines.csv: {d.line_id} capacity_t = {_num(d.line_capacity_t)}")
    if d.terminal_id and d.terminal_capacity_t is not None:
        places = list(base.network.places)
        done = False
        for k, f in enumerate(places):
            name = f"places-{k + 1}.csv"
            if f.lower().endswith(".csv") and _write_changed_table(
                Path(f),
                root / name,
                "id",
                d.terminal_id,
                {"capacity_t": _num(d.terminal_capacity_t)},
            ):
                places[k] = str(root / name)
                done = True
                notes.append(f"{name}: {d.terminal_id} capacity_t = {_num(d.terminal_capacity_t)}")
                break
        if not done:
            raise ScenarioRefused(f"没有场站 {d.terminal_id} / no terminal {d.terminal_id}")
        over["network.places"] = [_rel(p, root) for p in places]
    if d.planned:
        extra = [_rel(p, root) for p in base.network.extra_lines]
        by_file: dict[str, list[int]] = {}
        for key in d.planned:
            f, _, idx = key.rpartition("#")
            by_file.setdefault(f, []).append(int(idx))
        for n, (f, idxs) in enumerate(sorted(by_file.items()), start=1):
            data = json.loads(Path(f).read_text(encoding="utf-8"))
            data["features"] = [data["features"][i] for i in sorted(set(idxs))]
            name = f"planned-{n}.geojson"
            (root / name).write_text(
                json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            extra.append(name)
            names = ", ".join(str(ft["properties"].get("name", "")) for ft in data["features"])
            notes.append(f"{name}: switched on {names}")
        over["network.extra_lines"] = extra
    path = root / "scenario.toml"
    head = [
        f"# {d.title}",
        f"# Derived in the workbench from {base_title} ({base_toml.name}).",
        "# Paths are relative to this file; data/ is the shipped data folder.",
        *(f"# {n}" for n in notes),
        f"extends = {toml_value(_rel(base_toml, root))}",
        f"name = {toml_value(d.name)}",
        f"title = {toml_value(d.title)}",
        "",
    ]
    body = [f"{k} = {toml_value(v)}" for k, v in over.items()]
    path.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    try:
        load_scenario(path)
    except (InputErrors, InputError) as exc:
        lines = str(exc).splitlines()
        raise ScenarioRefused(
            f"派生场景无效 / the derived scenario is invalid: {lines[0]}", lines
        ) from None
    return path, over


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def remove_root(root: Path) -> None:
    """Delete a scenario folder the workbench made (its ``data`` link is unlinked, never
    followed)."""
    if root.exists() or root.is_symlink():
        shutil.rmtree(root, ignore_errors=False)
