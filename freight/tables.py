"""Reading the CSV tables of a scenario: commodities, flows, and the ids of places.

Every reader accepts UTF-8 with or without a BOM, skips lines whose first non-blank
character is ``#`` and blank lines, strips whitespace around headers and cells, and
reports every bad cell as one :class:`~networks.InputError` naming the file, the row as a
spreadsheet shows it (the first line of the file is row 1, so the header is row 1 when no
comment precedes it) and the column. Columns a reader does not know are ignored, so a
planner may keep helper columns in the sheet.

Readers take ``errors``: pass a list to collect problems and get back what could be read;
leave it out to have them raised together as :class:`~networks.InputErrors`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from freight.problem import MODES, Flow
from networks import InputError, InputErrors
from networks.csvtable import Row, read_table

_TRUE = {"yes", "true", "1", "y", "是"}
_FALSE = {"no", "false", "0", "n", "否", ""}


@dataclass(frozen=True)
class Commodity:
    """One line of ``commodities.csv``."""

    id: str
    name_zh: str
    name_en: str = ""
    rail_tariff_class: int | None = None
    pipeline_ok: bool = False
    source: str = ""


COMMODITY_COLUMNS: tuple[str, ...] = (
    "id",
    "name_zh",
    "name_en",
    "rail_tariff_class",
    "pipeline_ok",
    "source",
)
FLOW_COLUMNS: tuple[str, ...] = (
    "id",
    "commodity",
    "origin",
    "destination",
    "tonnes_per_year",
    "baseline_mode",
    "source",
)
FLOW_OPTIONAL_COLUMNS: tuple[str, ...] = ("shipper", "note")

MIN_FLOW_T = 1.0
"""The least ``tonnes_per_year`` of a flow. The solver resolves tonnes to about 1e-10 of
the largest flow (HiGHS' feasibility tolerance, 1e-7, on demands scaled so the largest is
~1,000 units: freight.model._bound_scale) and a result drops chain tonnes below 1e-9 of
their flow's: a flow of a gram a year would be carried, or not, within the solver's
noise, and could vanish from the result without a word. A bulk flow of under a tonne a
year is a unit slip (kg? Mt written as t?), so the flows table refuses it, naming the row,
rather than report a flow the solver cannot see. 1 t is above the solver's resolution for
flows up to 10^10 t."""


def _base(name: str) -> str:
    """``"ore (iron ore, bauxite)"`` -> ``"ore"``: a name without its parenthesised detail."""
    return name.split(" (")[0].split("（")[0].strip()


def commodity_id(name: str, commodities: Mapping[str, Commodity]) -> str | None:
    """The id of the commodity ``name`` stands for, by the table's own names.

    ``name`` is an id, or a ``name_zh`` / ``name_en`` of exactly one commodity (case and
    surrounding spaces ignored; ``name_en`` also without its parenthesised detail), so a
    planner may write 煤炭 or Coal for ``coal``. None when no commodity, or more than one,
    has that name.
    """
    if name in commodities:
        return name
    key = name.strip().casefold()
    for names in (
        lambda c: (c.id.casefold(), c.name_zh.strip().casefold(), c.name_en.strip().casefold()),
        lambda c: (_base(c.name_zh).casefold(), _base(c.name_en).casefold()),
    ):
        hits = [cid for cid, c in commodities.items() if key and key in names(c)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None
    return None


def unknown_commodity(name: str, commodities: Mapping[str, Commodity]) -> str:
    """The message for a commodity the table does not know, with the nearest names."""
    labels = {cid: f"{cid} ({c.name_zh})" if c.name_zh else cid for cid, c in commodities.items()}
    by_name: dict[str, str] = {}
    for cid, c in commodities.items():
        for n in (cid, c.name_zh, c.name_en, _base(c.name_en)):
            if n:
                by_name.setdefault(n.casefold(), cid)
    near = difflib.get_close_matches(name.strip().casefold(), list(by_name), n=3, cutoff=0.6)
    hint = dict.fromkeys(by_name[n] for n in near)
    did = f"; did you mean {', '.join(repr(labels[c]) for c in hint)}?" if hint else ""
    return (f"unknown commodity {name!r}{did} (give an id, name_zh or name_en of the "
            f"commodity table: {', '.join(labels.values())})")


# --- cell parsers --------------------------------------------------------------------------


def parse_float(
    row: Row,
    column: str,
    *,
    file: str,
    errors: list[InputError],
    minimum: float = 0.0,
    strict: bool = False,
    blank: float | None = None,
) -> float | None:
    """A finite number ``>= minimum`` (``> minimum`` when ``strict``); ``blank`` if empty.

    Appends an error and returns None when the cell is bad.
    """
    raw = row.cells.get(column, "")
    sign = ">" if strict else "≥"
    expected = f"expected a number {sign} {minimum:g}"
    if raw == "":
        if blank is not None:
            return blank
        errors.append(InputError(file, row.where, column, f"{expected}, got an empty cell"))
        return None
    try:
        value = float(raw.replace(",", "").replace("_", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        errors.append(InputError(file, row.where, column, f"{expected}, got {raw!r}"))
        return None
    return value


def parse_text(row: Row, column: str, *, file: str, errors: list[InputError]) -> str | None:
    """A non-empty text cell."""
    raw = row.cells.get(column, "")
    if raw == "":
        errors.append(InputError(file, row.where, column, "expected a value, got an empty cell"))
        return None
    return raw


def parse_bool(row: Row, column: str, *, file: str, errors: list[InputError]) -> bool | None:
    """yes/no, true/false, 1/0 (blank = no)."""
    raw = row.cells.get(column, "").lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    errors.append(
        InputError(file, row.where, column, f"expected yes or no, got {row.cells[column]!r}")
    )
    return None


def _finish(errors: list[InputError], own: list[InputError] | None) -> None:
    if own is None and errors:
        raise InputErrors(errors)


# --- readers -------------------------------------------------------------------------------


def read_commodities(
    path: str | Path, *, errors: list[InputError] | None = None
) -> dict[str, Commodity]:
    """Read ``commodities.csv``: ``id, name_zh, name_en, rail_tariff_class, pipeline_ok,
    source``.

    ``rail_tariff_class`` is blank or a whole number 1–9; ``pipeline_ok`` yes/no.

    Returns
    -------
    dict
        Commodities by id, in file order.
    """
    errs: list[InputError] = [] if errors is None else errors
    file = str(path)
    out: dict[str, Commodity] = {}
    first_row: dict[str, int] = {}
    for row in read_table(path, required=COMMODITY_COLUMNS, errors=errs):
        cid = parse_text(row, "id", file=file, errors=errs)
        name_zh = parse_text(row, "name_zh", file=file, errors=errs)
        raw_class = row.cells["rail_tariff_class"]
        tariff_class: int | None = None
        if raw_class:
            try:
                tariff_class = int(raw_class)
            except ValueError:
                tariff_class = 0
            if not 1 <= tariff_class <= 9:
                errs.append(
                    InputError(
                        file,
                        row.where,
                        "rail_tariff_class",
                        f"expected a whole number 1–9 or blank, got {raw_class!r}",
                    )
                )
                tariff_class = None
        pipeline_ok = parse_bool(row, "pipeline_ok", file=file, errors=errs)
        if cid is None:
            continue
        if cid in first_row:
            errs.append(
                InputError(
                    file, row.where, "id", f"duplicate id {cid!r} (first at row {first_row[cid]})"
                )
            )
            continue
        first_row[cid] = row.number
        out[cid] = Commodity(
            id=cid,
            name_zh=name_zh or "",
            name_en=row.cells["name_en"],
            rail_tariff_class=tariff_class,
            pipeline_ok=bool(pipeline_ok),
            source=row.cells["source"],
        )
    _finish(errs, errors)
    return out


def read_flow_rows(
    path: str | Path, *, errors: list[InputError] | None = None
) -> list[tuple[int, Flow]]:
    """Read ``flows.csv`` keeping each flow's spreadsheet row number (for later checks).

    Checks made here, without other tables: every required column present; ``id``,
    ``commodity``, ``origin``, ``destination`` and ``source`` non-empty; ids unique;
    ``tonnes_per_year`` a number of at least :data:`MIN_FLOW_T`; ``baseline_mode`` one of
    road/rail/pipeline (blank = road); origin differs from destination; at least one flow
    (a table of none gave an "optimal" run of zeros).
    """
    errs: list[InputError] = [] if errors is None else errors
    file = str(path)
    out: list[tuple[int, Flow]] = []
    first_row: dict[str, int] = {}
    n_before_table = len(errs)
    table = read_table(path, required=FLOW_COLUMNS, errors=errs)
    if not table and len(errs) == n_before_table:
        errs.append(InputError(file, "table", "(rows)",
                               "no flows: the table has no data rows, and a run of no flows "
                               "would report zeros as a result"))  # fmt: skip
    for row in table:
        n_before = len(errs)
        fid = parse_text(row, "id", file=file, errors=errs)
        commodity = parse_text(row, "commodity", file=file, errors=errs)
        origin = parse_text(row, "origin", file=file, errors=errs)
        destination = parse_text(row, "destination", file=file, errors=errs)
        tonnes = parse_float(
            row, "tonnes_per_year", file=file, errors=errs, minimum=0.0, strict=True
        )
        if tonnes is not None and tonnes < MIN_FLOW_T:
            errs.append(InputError(file, row.where, "tonnes_per_year", (
                f"{row.cells['tonnes_per_year']} t a year is below {MIN_FLOW_T:g} t, what the "
                "solver can tell from nothing next to the other flows; tonnes a year, not "
                "Mt or kt?")))  # fmt: skip
            tonnes = None
        mode = row.cells["baseline_mode"] or "road"
        if mode not in MODES:
            errs.append(
                InputError(
                    file,
                    row.where,
                    "baseline_mode",
                    f"expected one of {', '.join(MODES)}, got {mode!r}",
                )
            )
        parse_text(row, "source", file=file, errors=errs)
        if origin is not None and origin == destination:
            errs.append(InputError(file, row.where, "destination", f"same as origin {origin!r}"))
        if fid is not None:
            if fid in first_row:
                errs.append(
                    InputError(
                        file,
                        row.where,
                        "id",
                        f"duplicate flow id {fid!r} (first at row {first_row[fid]})",
                    )
                )
            else:
                first_row[fid] = row.number
        if len(errs) > n_before:
            continue
        assert fid and commodity and origin and destination and tonnes is not None
        out.append(
            (
                row.number,
                Flow(
                    id=fid,
                    commodity=commodity,
                    origin=origin,
                    destination=destination,
                    tonnes=tonnes,
                    baseline_mode=mode,
                    shipper=row.cells.get("shipper", ""),
                    note=row.cells.get("note", ""),
                ),
            )
        )
    _finish(errs, errors)
    return out


def read_flows(path: str | Path, *, errors: list[InputError] | None = None) -> tuple[Flow, ...]:
    """Read ``flows.csv``: ``id, commodity, origin, destination, tonnes_per_year,
    baseline_mode, shipper, source, note`` (``shipper`` and ``note`` optional).

    See :func:`read_flow_rows` for the checks. Place ids and commodities are checked
    against their tables by ``freight.scenario``.
    """
    return tuple(flow for _, flow in read_flow_rows(path, errors=errors))


def read_place_ids(path: str | Path, *, errors: list[InputError] | None = None) -> dict[str, int]:
    """The ``id`` column of a places table (CSV, or a point layer pyogrio can read).

    A cheap read for ``freight validate``; the full places reader is ``networks``'.

    Returns
    -------
    dict
        Place id -> row number (CSV) or feature number (layer).
    """
    errs: list[InputError] = [] if errors is None else errors
    file = str(path)
    out: dict[str, int] = {}
    if Path(path).suffix.lower() in (".csv", ".txt", ""):
        for row in read_table(path, required=("id",), errors=errs):
            pid = parse_text(row, "id", file=file, errors=errs)
            if pid is not None:
                out.setdefault(pid, row.number)
    else:
        out = _read_layer_ids(path, errs)
    _finish(errs, errors)
    return out


def _read_layer_ids(path: str | Path, errors: list[InputError]) -> dict[str, int]:
    import pyogrio  # only for point-layer places; imported where needed

    file = str(path)
    if not Path(path).exists():
        errors.append(InputError(file, "file", "(file)", "file not found"))
        return {}
    try:
        frame = pyogrio.read_dataframe(path, columns=["id"], read_geometry=False)
    except Exception as exc:  # pyogrio raises several driver-specific errors
        errors.append(InputError(file, "layer", "(file)", f"cannot read: {exc}"))
        return {}
    if "id" not in frame.columns:
        errors.append(InputError(file, "layer", "id", "required property missing"))
        return {}
    out: dict[str, int] = {}
    for i, value in enumerate(frame["id"], start=1):
        text = "" if value is None else str(value).strip()
        if not text or text == "nan":
            errors.append(InputError(file, f"feature {i}", "id", "expected a value, got none"))
            continue
        out.setdefault(text, i)
    return out
