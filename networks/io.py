"""Read and validate the inputs of the networks stage: line layers and CSV tables.

Every reader gathers all problems it finds and raises them together as one
:class:`~networks._errors.InputErrors`, each a single line naming the file, the feature
(``"feature 3"``, counted from 1 in file order) or CSV row (``"row 7"``, the line number
in the file, header = line 1) and the field at fault.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString

from networks import csvtable
from networks._errors import InputError, raise_if_any

GEOD = Geod(ellps="WGS84")

#: Default commodities of a pipeline feature that names none.
PIPELINE_DEFAULT_COMMODITIES: frozenset[str] = frozenset({"oil"})

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass(frozen=True)
class LineFeature:
    """One feature of a line layer, validated.

    Attributes
    ----------
    index : int
        Feature number in the file, counted from 1.
    parts : tuple[LineString, ...]
        The lines of the feature (a MultiLineString gives one per part), lon/lat.
    name, capacity_t, freight, commodities, length_km
        The properties the graph carries; ``length_km`` is None when not given.
    """

    index: int
    parts: tuple[LineString, ...]
    name: str = ""
    capacity_t: float = math.inf
    freight: bool = True
    commodities: frozenset[str] | None = None
    length_km: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def geodesic_km(coords: np.ndarray) -> float:
    """Geodesic length in km of a lon/lat polyline given as an ``(n, 2)`` array."""
    if len(coords) < 2:
        return 0.0
    _, _, dist = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    return float(np.sum(dist)) / 1000.0


def geodesic_km_many(lines: Sequence[LineString]) -> np.ndarray:
    """Geodesic lengths in km of many lon/lat lines at once (one vectorised call)."""
    if len(lines) == 0:
        return np.zeros(0)
    coords, idx = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    return _geodesic_km_flat(coords, idx, len(lines))


def _geodesic_km_flat(coords: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Geodesic km of ``n`` lines given back to back (``idx`` = line of each vertex)."""
    same = idx[:-1] == idx[1:]
    _, _, dist = GEOD.inv(coords[:-1, 0][same], coords[:-1, 1][same],
                          coords[1:, 0][same], coords[1:, 1][same])
    out = np.zeros(n)
    np.add.at(out, idx[:-1][same], dist / 1000.0)
    return out


def point_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle (geodesic, WGS84) distance in km between two points."""
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2]) / 1000.0


#: China's extent (lon0, lat0, lon1, lat1), to tell a swapped lat,lon pair from a real point.
CHINA_BOX: tuple[float, float, float, float] = (73.0, 18.0, 135.5, 54.0)


def _in_box(lon: float, lat: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def lonlat_problem(lon: float, lat: float) -> str | None:
    """Why ``(lon, lat)`` is not a WGS84 point of this model, or None when it is.

    A pair that would be a point in China if read the other way round (every such pair
    has a "lat" over 54, most over 90) is named as swapped; a pair out of the degree
    ranges otherwise as projected coordinates.
    """
    in_range = -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
    if _in_box(lat, lon, CHINA_BOX) and not _in_box(lon, lat, CHINA_BOX):
        return (f"lon {lon:g} and lat {lat:g} look swapped: {lat:g} is a longitude in China; "
                "put lon (east, e.g. 116.0) first and lat (north, e.g. 36.5) second")
    if in_range:
        return None
    return (f"({lon:g}, {lat:g}) is not lon/lat degrees (projected coordinates?); "
            "give WGS84 degrees, lon then lat, e.g. 116.0, 36.5")


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def parse_float(value: Any, *, default: float, minimum: float | None = 0.0) -> float:
    """A number from a cell: blank gives ``default``; raises ValueError otherwise."""
    if _blank(value):
        return default
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    text = str(value).strip().replace(",", "").replace("_", "")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None
    if math.isnan(number):
        raise ValueError(f"expected a number, got {value!r}")
    if minimum is not None and number < minimum:
        raise ValueError(f"expected a number >= {minimum:g}, got {value!r}")
    return number


def parse_bool(value: Any, *, default: bool) -> bool:
    """A true/false cell (true/false, yes/no, 1/0); blank gives ``default``."""
    if _blank(value):
        return default
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating) and value in (0.0, 1.0):
        # a GeoJSON boolean that some features leave out is read as a float column
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def parse_set(value: Any) -> frozenset[str] | None:
    """A ``;``-joined string or a list as a set of lower-case names; blank gives None."""
    if _blank(value):
        return None
    items: Iterable[Any]
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        items = value
    else:
        items = str(value).replace(",", ";").split(";")
    names = frozenset(str(v).strip().lower() for v in items if str(v).strip())
    return names or None


def check_file(path: str | os.PathLike[str], *, field_name: str = "path") -> InputError | None:
    """An error when ``path`` is not a regular file (or a ``.gdb`` folder) that can be
    read: missing, a folder, a pipe or a device (reading ``/dev/zero`` or a FIFO would
    never end), or a Shapefile without the ``.dbf`` that holds its attributes (GDAL would
    read its lines with no ``name``, ``capacity_t`` or ``length_km`` at all). None when
    it is sound."""
    p = Path(path)
    if str(path).lower().startswith("/vsi"):
        return None  # a GDAL virtual path: GDAL checks it
    if not p.exists():
        return InputError(str(path), "file", field_name, "file not found")
    if p.is_dir():
        if p.suffix.lower() == ".gdb":
            return None
        return InputError(str(path), "file", field_name, "is a directory, expected a file")
    if not p.is_file():
        return InputError(str(path), "file", field_name,
                          "not a regular file (a pipe or a device?); give a file")
    if p.suffix.lower() == ".shp":
        stem = p.name[:-4].lower()
        beside = {f.name.lower() for f in p.parent.iterdir()} if p.parent.is_dir() else set()
        if f"{stem}.dbf" not in beside:
            return InputError(str(path), "file", "dbf",
                              f"no {p.name[:-4]}.dbf beside it: a Shapefile keeps its "
                              "attributes (name, capacity_t, length_km, ...) in the .dbf, "
                              "and every one would be lost")  # fmt: skip
    return None


def read_line_layer(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    mode: str = "road",
) -> list[LineFeature]:
    """Read a line layer (GeoJSON, GeoPackage, Shapefile, anything pyogrio reads).

    Parameters
    ----------
    path : str or path-like
        The file.
    layer : str, optional
        Layer name; when the file has no layer of that name but exactly one layer,
        that layer is read.
    mode : str
        ``"road"``, ``"rail"`` or ``"pipeline"``: pipelines default their
        ``commodities`` to oil.

    Returns
    -------
    list of LineFeature

    Raises
    ------
    InputErrors
        Missing or unreadable file, empty layer, projected CRS or coordinates out of
        lon/lat range, features that are not lines, bad ``capacity_t``, ``freight``,
        ``length_km`` values -- all gathered.
    """
    import pyogrio

    file = str(path)
    err = check_file(path)
    if err is not None:
        raise_if_any([err])
    gdal_path = gdal_name(file)
    single = file.lower().endswith((".geojson", ".geojson.gz"))
    if single:
        # a GeoJSON file is one layer: listing it would parse the whole file twice
        layers, layer = [], None
    else:
        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(gdal_path)]
        except Exception as exc:  # pyogrio raises several error types for unreadable files
            raise_if_any([InputError(file, "file", "format",
                                     f"cannot read: {_first_line(exc)}")])
    if layer is not None and layer not in layers:
        if len(layers) == 1:
            layer = layers[0]
        else:
            raise_if_any([InputError(file, "layer", "layer",
                                     f"no layer {layer!r}; layers are {', '.join(layers)}")])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(gdal_path, layer=layer)
    except Exception as exc:
        # a geometry GEOS refuses (a LineString of one point): name its features
        raise_if_any(_bad_geometries(file, gdal_path, layer)
                     or [InputError(file, "file" if single else "layer", "format",
                                    f"cannot read: {_first_line(exc)}")])  # fmt: skip
    return validate_line_frame(gdf, file=file, mode=mode)


def _bad_geometries(file: str, gdal_path: str, layer: str | None) -> list[InputError]:
    """The features of a layer whose geometry GDAL reads but GEOS refuses (a LineString
    of one point: "point array must contain 0 or >1 elements"), one error each; [] when
    that is not why the layer cannot be read."""
    import pyogrio.raw

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, _, wkb, _ = pyogrio.raw.read(gdal_path, layer=layer, columns=[])
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    except Exception:  # noqa: BLE001 -- unreadable for another reason: the caller says so
        return []
    return [InputError(file, f"feature {i}", "geometry",
                       "not a valid line (a LineString needs at least 2 points)")
            for i, (raw, g) in enumerate(zip(wkb, geoms, strict=True), start=1)
            if raw is not None and g is None]  # fmt: skip


def validate_line_frame(gdf: Any, *, file: str, mode: str = "road") -> list[LineFeature]:
    """Validate a GeoDataFrame of lines into :class:`LineFeature` records.

    See :func:`read_line_layer`; ``file`` only names the source in messages.
    """
    errors: list[InputError] = []
    if len(gdf) == 0:
        raise_if_any([InputError(file, "layer", "geometry", "layer is empty, expected lines")])
    crs = gdf.crs
    if crs is not None:
        if crs.is_projected:
            raise_if_any([InputError(file, "layer", "crs",
                                     f"projected CRS {crs.to_string()}; give lon/lat degrees "
                                     "(EPSG:4326)")])
        if crs.is_geographic and crs.to_epsg() not in (4326, 4490, None):
            gdf = gdf.to_crs(4326)
    columns = set(gdf.columns)
    features: list[LineFeature] = []
    n = len(gdf)
    props = [c for c in gdf.columns if c != gdf.geometry.name]
    values = {c: gdf[c].tolist() for c in props}
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    # whole-layer checks in shapely's C loops (the road layer has ~60k features): type,
    # coordinates in degrees, and which plain lines can be used as they are
    type_id = shapely.get_type_id(geoms)  # -1 missing, 1 LineString, 5 MultiLineString
    empty = shapely.is_empty(geoms)
    xy_all, owner = shapely.get_coordinates(geoms, return_index=True)
    # NaN compares false with anything: test finiteness first
    finite = np.isfinite(xy_all).all(axis=1)
    off = ~finite | (np.abs(xy_all[:, 0]) > 180) | (np.abs(xy_all[:, 1]) > 90)
    first_off = {int(j): k for k, j in zip(np.flatnonzero(off)[::-1], owner[off][::-1],
                                            strict=True)}
    n_coords = shapely.get_num_coordinates(geoms)
    # the properties, column by column: (parsed values, {row: problem})
    names = (["" if _blank(v) else str(v).strip() for v in values["name"]]
             if "name" in columns else [""] * n)
    parsed: dict[str, tuple[list[Any], dict[int, str]]] = {}
    if "capacity_t" in columns:
        parsed["capacity_t"] = _parse_column(
            gdf["capacity_t"], values["capacity_t"], lambda v: parse_float(v, default=math.inf),
            blank=math.inf)
    if "length_km" in columns:
        parsed["length_km"] = _parse_column(
            gdf["length_km"], values["length_km"],
            lambda v: None if _blank(v) else parse_float(v, default=0.0), blank=None)
    if "freight" in columns:
        col = values["freight"]
        ok: list[Any] = []
        bad: dict[int, str] = {}
        for r, v in enumerate(col):
            try:
                ok.append(parse_bool(v, default=True))
            except ValueError as exc:
                ok.append(None)
                bad[r] = str(exc)
        parsed["freight"] = (ok, bad)
    default_comm = PIPELINE_DEFAULT_COMMODITIES if mode == "pipeline" else None
    if "commodities" in columns:
        comms = [parse_set(v) for v in values["commodities"]]
        comms = [default_comm if c is None else c for c in comms]
    else:
        comms = [default_comm] * n
    skip = {"name", "capacity_t", "length_km", "freight", "commodities"}
    extra_cols = [c for c in props if c not in skip]
    extra_vals = list(zip(*(values[c] for c in extra_cols), strict=True)) if extra_cols else None
    any_bad = any(bad for _, bad in parsed.values())
    keys = [k for k in ("capacity_t", "length_km", "freight") if k in parsed]
    for i, geom in enumerate(geoms, start=1):
        kind = int(type_id[i - 1])
        if geom is None or kind == -1 or empty[i - 1]:
            errors.append(InputError(file, f"feature {i}", "geometry",
                                     "missing geometry, expected a line"))
            continue
        if kind not in (1, 5):
            errors.append(InputError(file, f"feature {i}", "geometry",
                                     f"{geom.geom_type}, expected LineString or MultiLineString"))
            continue
        if i - 1 in first_off:
            x, y = xy_all[first_off[i - 1]]
            if not (math.isfinite(x) and math.isfinite(y)):
                errors.append(InputError(file, f"feature {i}", "geometry",
                                         f"coordinate ({x:.6g}, {y:.6g}) is not a number; "
                                         "give lon/lat degrees"))  # fmt: skip
                continue
            why = lonlat_problem(float(x), float(y)) or ""
            if "swapped" in why:
                why = (f"coordinate ({x:.6g}, {y:.6g}) looks swapped (lat, lon); a layer "
                       "gives lon first, then lat")
            else:
                why = (f"coordinate ({x:.6g}, {y:.6g}) is not lon/lat degrees (projected "
                       "coordinates?); give EPSG:4326")
            errors.append(InputError(file, f"feature {i}", "geometry", why))
            continue
        if kind == 1:
            parts = [geom] if n_coords[i - 1] >= 2 else []
        else:
            parts = [LineString(shapely.get_coordinates(p)) for p in geom.geoms
                     if not p.is_empty and len(p.coords) >= 2]
        if not parts:
            errors.append(InputError(file, f"feature {i}", "geometry",
                                     "line with fewer than 2 points"))
            continue
        kw: dict[str, Any] = {}
        for key in keys:
            vals, bad = parsed[key]
            if any_bad and i - 1 in bad:
                errors.append(InputError(file, f"feature {i}", key, bad[i - 1]))
            else:
                kw[key] = vals[i - 1]
        extra = dict(zip(extra_cols, extra_vals[i - 1], strict=True)) if extra_vals else {}
        features.append(LineFeature(index=i, parts=tuple(parts), name=names[i - 1],
                                    commodities=comms[i - 1], extra=extra, **kw))
    raise_if_any(errors)
    return features


def _parse_column(
    series: Any, col: list[Any], parse: Any, *, blank: Any
) -> tuple[list[Any], dict[int, str]]:
    """Parse a numeric property column: ``(values, {row: problem})``.

    A float or integer column is parsed at once (blank = NaN gives ``blank``, negative
    values are the problems); any other column value by value with ``parse``.
    """
    dtype = getattr(series, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        arr = np.asarray(series, dtype=float)
        nan = np.isnan(arr)
        neg = ~nan & (arr < 0)
        out: list[Any] = arr.tolist()
        for r in np.flatnonzero(nan).tolist():
            out[r] = blank
        bad: dict[int, str] = {}
        for r in np.flatnonzero(neg).tolist():
            try:
                out[r] = parse(col[r])
            except ValueError as exc:
                bad[r] = str(exc)
        return out, bad
    out = []
    bad = {}
    for r, v in enumerate(col):
        try:
            out.append(parse(v))
        except ValueError as exc:
            out.append(None)
            bad[r] = str(exc)
    return out, bad


def one_layer(file: str, *, wanted: str) -> tuple[str | None, InputError | None]:
    """The layer to read from ``file``: the one named ``wanted``, or the only one; an
    error naming the layers when there are several and none is ``wanted`` (reading the
    first would silently take another layer than the planner meant)."""
    if file.lower().endswith((".geojson", ".geojson.gz", ".json", ".csv")):
        return None, None  # one layer by nature
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(gdal_name(file))]
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        return None, InputError(file, "file", "format", f"cannot read: {_first_line(exc)}")
    if wanted in layers or len(layers) <= 1:
        return (wanted if wanted in layers else None), None
    return None, InputError(file, "layer", "layer",
                            f"{len(layers)} layers ({', '.join(layers)}) and none named "
                            f"{wanted!r}: name the layer {wanted!r} or keep one")  # fmt: skip


def gdal_name(file: str) -> str:
    """The name GDAL opens ``file`` by: gzip and zip files go through /vsigzip/, /vsizip/."""
    low = file.lower()
    if low.startswith("/vsi"):
        return file
    if low.endswith(".gz"):
        return "/vsigzip/" + file
    if low.endswith(".zip"):
        return "/vsizip/" + file
    return file


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_table(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str],
) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV table with :func:`networks.csvtable.read_table`, raising its problems.

    Parameters
    ----------
    path : str or path-like
    required : sequence of str
        Columns that must be present.

    Returns
    -------
    list of (int, dict)
        The row number of each record as a spreadsheet shows it, and its cells, stripped.

    Raises
    ------
    InputErrors
        Missing file, unreadable text, missing columns, malformed rows.
    """
    err = check_file(path)
    if err is not None:
        raise_if_any([err])
    errors: list[InputError] = []
    rows = csvtable.read_table(Path(path), required=required, errors=errors)
    raise_if_any(errors)
    return [(r.number, r.cells) for r in rows]
