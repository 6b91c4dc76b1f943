"""Results a planner opens directly: ``results.gpkg`` for QGIS, ``*.xlsx`` for Excel.

Both are made from the files of a result folder (``docs/CONTRACTS.md``) -- ``links.geojson``,
``flows.csv``, ``terminals.csv``, ``bottlenecks.csv`` -- plus the scenario's network (place
coordinates) and county polygons, so they always say what those files say, and columns
added to the CSVs later appear in the workbooks without a change here.

``results.gpkg`` (GeoPackage, EPSG:4326, coordinates rounded to 1e-6 deg, ~0.1 m), layers:

- ``links``: every edge carrying flow in any state. Flat numeric columns, so QGIS can
  style and total them: ``tonnes_<state>``, ``<commodity>_<state>_t`` for every state the
  result has (``baseline``, ``without_rule``, ``with_rule``), ``tonnes_change`` and
  ``<commodity>_change_t`` = with the rule − today, ``tonnes_rule_effect`` = with − without
  the rule; ``lines`` as
  plain text (``;``-joined ids; ``name`` holds the Chinese names). ``km`` is the network
  length the costs use (the layer's ``length_km`` or the geodesic length of the source
  geometry); ``drawn_km`` the geodesic length of the drawn geometry, which for the
  OSM-derived layers is a simplified line and can be shorter.
- ``flows``: one straight origin -> destination line (a desire line) per row of
  ``flows.csv`` (a flow and a chain it uses), every column of it.
- ``terminals``: points, the columns of ``terminals.csv`` (throughput in each state,
  capacity, utilisation, shadow price).
- ``shippers``: shippers and plants at either end of a flow: road line-haul tonnes in each
  state (``road_<state>_t``), tonnes with the rule by line-haul mode
  (``<mode>_with_rule_t``), the road change (with the rule − today), and the utilisation of
  their own siding when they are a terminal.
- ``counties`` (when the scenario has county polygons): road line-haul tonnes in each state
  of the flows whose local end is in the county, and the change (with the rule − today).

``flows.xlsx``, ``terminals.xlsx``, ``bottlenecks.xlsx``: the CSVs as workbooks: numbers as
numbers with formats (thousands separators, km to 0.1, CNY/t to 0.01, utilisation as %),
a frozen and filtered header, column widths that fit (a Chinese character counts two;
long text wraps), ids and codes that repeat a readable column folded into a group
(:data:`DETAIL_COLUMNS`), printed landscape on A4, one page wide, the header repeated on
every page. Every text cell
is written as text; one that starts like a formula (``= + - @``) also gets Excel's quote
prefix, so data never runs as a formula there.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, shape

from freight.spreadsheet import restore
from maps.results import STATES, Results, by_key, by_place, finite, read_results
from networks import Network

_OLD, _NEW = "baseline", "with_rule"  # a "change" is with the rule − today

#: Layers of results.gpkg, in the order they are written.
LAYERS: tuple[str, ...] = ("links", "flows", "terminals", "shippers", "counties")
#: Workbooks written beside the CSVs of the same name.
WORKBOOKS: tuple[str, ...] = ("flows", "terminals", "bottlenecks")
#: Place kinds shown in the ``shippers`` layer (as the map's shipper markers).
SHIPPER_KINDS: frozenset[str] = frozenset({"shipper", "plant"})
#: Columns of ids and codes that repeat a readable column beside them (``origin`` beside
#: ``origin_name``, ``reason_code`` beside ``reason``) or detail a chain: in the workbooks
#: they are grouped and folded (the + above them opens them), so the table a planner
#: prints is one A4 page wide and still legible.
DETAIL_COLUMNS: frozenset[str] = frozenset(
    {"origin", "destination", "reason_code", "modes", "lifts", "lines", "compliant",
     "constraint"}
)
#: Widest a column grows before its text wraps (Excel width units, ~ characters).
MAX_WIDTH = 24
#: Columns of sentences: wider before they wrap.
WIDE_COLUMNS: dict[str, int] = {"reason": 40, "label": 40, "name": 30}
#: Columns that hold identifiers: text even when every value looks like a number.
TEXT_COLUMNS: frozenset[str] = frozenset(
    {"id", "flow_id", "origin", "destination", "constraint", "u", "v", "county", "shipper"}
)
DECIMALS = 6  # ~0.1 m at these latitudes; "~1 m" asked for
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_exports(
    result_dir: str | Path, network: Network, *, counties: str | Path | None = None,
) -> list[Path]:
    """Write ``results.gpkg`` and the workbooks into a result folder.

    Parameters
    ----------
    result_dir : path
        A result folder (``summary.json``, ``flows.csv``, ``links.geojson``, ...).
    network : Network
        The scenario's network: coordinates of the places.
    counties : path, optional
        County polygons (GeoJSON with ``name``; ``adcode`` optional).

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(result_dir)
    results = read_results(folder)
    written = [write_geopackage(results, network, folder / "results.gpkg", counties=counties)]
    for stem in WORKBOOKS:
        src = folder / f"{stem}.csv"
        if src.exists():
            written.append(write_workbook(src, folder / f"{stem}.xlsx",
                                          title=str(results.summary.get("title") or "")))
    return written


# --- GeoPackage ------------------------------------------------------------------------------


def _rounded(geoms: Iterable[Any]) -> np.ndarray:
    arr = np.asarray(list(geoms), dtype=object)
    return shapely.transform(arr, lambda xy: np.round(xy, DECIMALS))


def _states(props: dict[str, Any]) -> list[str]:
    """The states a links feature has (``tonnes_with_rule`` -> ``with_rule``), in order."""
    return [k.removeprefix("tonnes_") for k in props if k.startswith("tonnes_")]


def link_rows(links: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Any]]:  # noqa: C901, PLR0912 -- one branch per links.geojson property family
    """Flat rows (one per links.geojson feature) and their geometries.

    Per-commodity dicts (``by_commodity_<state>``) become ``<commodity>_<state>_t``
    columns (0 where a commodity is absent), lists become ``;``-joined text, and
    ``<...>_change_t`` columns hold with the rule − today (``baseline``).
    """
    feats = links.get("features", [])
    comms: list[str] = []
    states: list[str] = []
    for f in feats:
        p = f["properties"]
        for s in _states(p):
            if s not in states:
                states.append(s)
            for c in p.get(f"by_commodity_{s}") or {}:
                if c not in comms:
                    comms.append(c)
    comms.sort()
    rows, geoms = [], []
    for f in feats:
        p = f["properties"]
        row: dict[str, Any] = {}
        for k, v in p.items():
            if k.startswith("by_commodity_"):
                continue
            if isinstance(v, list | tuple):
                row[k] = ";".join(map(str, v))
            elif isinstance(v, dict):
                row.update({f"{k}_{kk}": vv for kk, vv in v.items()})
            else:
                row[k] = v
        geom = shape(f["geometry"]) if f.get("geometry") else None
        row["drawn_km"] = round(_geodesic_km(geom), 3) if geom is not None else None
        if _NEW in states and _OLD in states:
            row["tonnes_change"] = (p.get(f"tonnes_{_NEW}") or 0.0) - (
                p.get(f"tonnes_{_OLD}") or 0.0
            )
        if _NEW in states and "without_rule" in states:
            row["tonnes_rule_effect"] = (p.get(f"tonnes_{_NEW}") or 0.0) - (
                p.get("tonnes_without_rule") or 0.0
            )
        for c in comms:
            for s in states:
                row[f"{c}_{s}_t"] = float((p.get(f"by_commodity_{s}") or {}).get(c, 0.0))
            if _NEW in states and _OLD in states:
                row[f"{c}_change_t"] = row[f"{c}_{_NEW}_t"] - row[f"{c}_{_OLD}_t"]
        rows.append(row)
        geoms.append(geom)
    return rows, geoms


def _geodesic_km(geom: Any) -> float:
    from networks.io import geodesic_km

    return sum(geodesic_km(shapely.get_coordinates(g)) for g in getattr(geom, "geoms", [geom]))


def _frame(rows: list[dict[str, Any]], geoms: list[Any]) -> Any:
    import geopandas as gpd
    import pandas as pd

    df = pd.DataFrame(rows)
    for col in df.columns:  # a column of numbers and blanks (None) is numeric, blanks NaN
        if df[col].dtype == object and all(v is None or isinstance(v, int | float)
                                           and not isinstance(v, bool) for v in df[col]):
            df[col] = pd.to_numeric(df[col])
    return gpd.GeoDataFrame(df, geometry=list(_rounded(geoms)), crs="EPSG:4326")


def _number(text: str) -> float | None:
    try:
        x = float(text.replace(",", ""))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _typed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CSV rows with the columns whose every non-blank cell is a number as numbers."""
    if not rows:
        return rows
    numeric = [c for c in rows[0] if c not in TEXT_COLUMNS and not c.endswith("_id")
               and any(str(r.get(c) or "") != "" for r in rows)
               and all(_number(str(r[c])) is not None for r in rows
                       if isinstance(r.get(c), str) and r[c] != "")]
    out = []
    for r in rows:
        row = dict(r)
        for c in numeric:
            v = r.get(c)
            row[c] = _number(v) if isinstance(v, str) and v != "" else (
                v if isinstance(v, int | float) else None)
        out.append(row)
    return out


def _read_csv(path: Path) -> list[dict[str, Any]]:
    """A CSV of the result folder, its text cells as they were before
    :mod:`freight.spreadsheet` quoted those that would start a formula."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{restore(k): restore(v) if isinstance(v, str) else v for k, v in r.items()}
                for r in csv.DictReader(fh)]  # fmt: skip


def write_geopackage(
    results: Results, network: Network, path: str | Path, *,
    counties: str | Path | None = None,
) -> Path:
    """Write ``results.gpkg`` (see the module docstring) and return its path."""
    import pyogrio

    path = Path(path)
    tmp = path.with_name(f".{path.stem}-tmp{path.suffix}")  # GDAL wants .gpkg at the end
    tmp.unlink(missing_ok=True)
    folder = results.path
    layers: dict[str, Any] = {}
    rows, geoms = link_rows(results.links)
    if rows:
        layers["links"] = _frame(rows, geoms)
    places = network.places
    flows = _typed(_read_csv(folder / "flows.csv")) if (folder / "flows.csv").exists() else []
    lines = [LineString([(places[r["origin"]].lon, places[r["origin"]].lat),
                         (places[r["destination"]].lon, places[r["destination"]].lat)])
             for r in flows if r.get("origin") in places and r.get("destination") in places]
    kept = [r for r in flows if r.get("origin") in places and r.get("destination") in places]
    if kept:
        layers["flows"] = _frame(kept, lines)
    terms = (_typed(_read_csv(folder / "terminals.csv"))
             if (folder / "terminals.csv").exists() else [])
    if terms:
        layers["terminals"] = _frame(terms, [Point(t["lon"], t["lat"]) for t in terms])
    util = {t["id"]: t.get("utilisation") for t in terms}
    shippers = shipper_rows(results, network, util)
    if shippers:
        layers["shippers"] = _frame(shippers, [Point(r["lon"], r["lat"]) for r in shippers])
    if counties is not None:
        rows_c, polys = county_rows(results, counties)
        if rows_c:
            layers["counties"] = _frame(rows_c, polys)
    with _fixed_gdal_date():  # the same bytes on every run (issue 15)
        for name in LAYERS:
            if name in layers:
                # GeoPackage 1.3: what GDAL 3.6 (QGIS 3.28 LTR, Debian 12) reads without a
                # warning; pyogrio's newer GDAL would write 1.4
                pyogrio.write_dataframe(layers[name], tmp, layer=name, driver="GPKG",
                                        dataset_options={"VERSION": "1.3"})
    if tmp.exists():
        tmp.replace(path)
    return path


def shipper_rows(
    results: Results, network: Network, utilisation: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per shipper or plant at either end of a flow: road line-haul tonnes in each
    state, tonnes with the rule by line-haul mode, and the road change (with the rule −
    today)."""
    out = []
    for pid, a in sorted(by_place(results.flows).items()):
        p = network.places.get(pid)
        if p is None or p.kind not in SHIPPER_KINDS:
            continue
        row: dict[str, Any] = {"id": pid, "name": p.name, "kind": p.kind, "county": p.county,
                               "lon": p.lon, "lat": p.lat, "tonnes": a["tonnes"]}
        for state, t in a["road"].items():
            row[f"road_{state}_t"] = t
        for mode, t in a["with_rule"].items():
            row[f"{mode}_with_rule_t"] = t
        row["road_change_t"] = (a["road"].get(_NEW) or 0.0) - (a["road"].get(_OLD) or 0.0)
        row["utilisation"] = finite((utilisation or {}).get(pid))
        out.append(row)
    return out


def county_rows(results: Results, counties: str | Path) -> tuple[list[dict[str, Any]], list]:
    """County polygons with the road line-haul tonnes of their flows in each state."""
    data = json.loads(Path(counties).read_text(encoding="utf-8"))
    agg = by_key(results.flows, "county")
    rows, polys = [], []
    for f in data.get("features", []):
        props = f.get("properties") or {}
        name = str(props.get("name", ""))
        a = agg.get(name)
        road = {s: ((a["road"].get(s) or 0.0) if a else 0.0) for s in STATES}
        rows.append({"name": name, "adcode": str(props.get("adcode", props.get("gb", ""))),
                     **{f"road_{s}_t": t for s, t in road.items()},
                     "road_change_t": road[_NEW] - road[_OLD],
                     "flows": len(a["flows"]) if a else 0})
        polys.append(shape(f["geometry"]))
    return rows, polys


# --- workbooks -------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Display width: a Chinese (wide) character takes two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def number_format(column: str) -> str:
    """The Excel number format of a column, by its name."""
    if column in ("utilisation",) or column.endswith("_share"):
        return "0.0%"
    if column in ("lon", "lat"):
        return "0.000000"
    if column.endswith("_km") or column == "km":
        return "#,##0.0"
    if column.endswith("_per_t") or column.startswith("shadow") or column.endswith("_year"):
        return "#,##0.00"
    if column in ("rank", "u", "v"):
        return "0"
    return "#,##0"


def _shown(value: float, fmt: str) -> str:
    """About the text Excel shows for ``value`` in format ``fmt`` (for column widths)."""
    if fmt.endswith("%"):
        return f"{value * 100:.1f}%"
    decimals = len(fmt.split(".")[1]) if "." in fmt else 0
    return f"{value:,.{decimals}f}" if "," in fmt else f"{value:.{decimals}f}"


def write_workbook(csv_path: str | Path, xlsx_path: str | Path, *, title: str = "") -> Path:  # noqa: PLR0915 -- one workbook's sheets, styles and widths in the order a planner sees them
    """A CSV of the result folder as a workbook a planner prints (module docstring)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    src, dst = Path(csv_path), Path(xlsx_path)
    with open(src, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)  # cells as written before freight.spreadsheet's quote
        header = [restore(h) for h in next(reader, [])]
        raw = [dict(zip(header, map(restore, r), strict=False)) for r in reader]
    rows = _typed(raw)
    wb = Workbook()
    ws = wb.active
    ws.title = src.stem[:31]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    widths = [_width(h) for h in header]
    for j, h in enumerate(header, start=1):
        c = ws.cell(row=1, column=j)
        _text_cell(c, h)
        c.font, c.fill = bold, fill
        c.alignment = Alignment(vertical="top", wrap_text=True)
    formats = {h: number_format(h) for h in header}
    top = Alignment(vertical="top")
    for i, r in enumerate(rows, start=2):
        for j, h in enumerate(header, start=1):
            v = r.get(h)
            c = ws.cell(row=i, column=j)
            c.alignment = top
            if isinstance(v, int | float) and not isinstance(v, bool):
                c.value = v
                c.number_format = formats[h]
                shown = _shown(v, formats[h])
            else:
                _text_cell(c, "" if v is None else str(v))
                shown = "" if v is None else str(v)
            widths[j - 1] = max(widths[j - 1], _width(shown))
    wrap = Alignment(wrap_text=True, vertical="top")
    lines = [1] * (len(rows) + 2)  # text lines of each row, for its height
    for j, (h, w) in enumerate(zip(header, widths, strict=True), start=1):
        dim = ws.column_dimensions[get_column_letter(j)]
        cap = WIDE_COLUMNS.get(h, MAX_WIDTH)
        dim.width = min(max(w + 3, 6), cap)
        if w + 3 > cap:  # long text wraps within its column
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.alignment = wrap
                if h not in DETAIL_COLUMNS and isinstance(cell.value, str):
                    need = -(-_width(cell.value) // cap)
                    lines[cell.row] = max(lines[cell.row], need)
        if h in DETAIL_COLUMNS:
            dim.outlineLevel = 1
            dim.hidden = True
    if any(h in DETAIL_COLUMNS for h in header):
        ws.sheet_format.outlineLevelCol = 1
    for i, n in enumerate(lines):
        if n > 1:  # Excel fits wrapped rows itself; LibreOffice needs the height
            ws.row_dimensions[i].height = 15.0 * n
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddHeader.center.text = title.replace("&", "&&")
    ws.oddFooter.center.text = f"{src.name} — &P / &N"
    tmp = dst.with_name(f".{dst.stem}-tmp{dst.suffix}")
    wb.save(tmp)
    _reproducible_zip(tmp)
    tmp.replace(dst)
    return dst


#: The date written where a file format asks for one (a GeoPackage's ``last_change``, the
#: entries of an .xlsx archive): the earliest a ZIP archive can hold, as reproducible
#: builds use, so two runs of one scenario write the same bytes.
FIXED_DATE = "1980-01-01T00:00:00.000Z"


@contextlib.contextmanager
def _fixed_gdal_date() -> Iterator[None]:
    """GDAL's ``OGR_CURRENT_DATE`` set to :data:`FIXED_DATE` while GeoPackage layers are
    written (it stamps ``gpkg_contents.last_change`` otherwise with the time of writing),
    and set back after: the option is process-wide."""
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _reproducible_zip(path: Path) -> None:
    """Rewrite an .xlsx (a ZIP archive) without the times of writing: each entry dated
    1980-01-01, and the workbook's created / modified properties (which openpyxl sets to
    now on every save) left out -- they are optional in the format."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>", b"",
                              data)  # fmt: skip
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            fixed.create_system = 3
            dst.writestr(fixed, data)


def _text_cell(cell: Any, text: str) -> None:
    """Write ``text`` as a string: never a formula, whatever it starts with."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True
