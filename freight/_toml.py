"""Reading a scenario TOML: the schema of keys, ``extends`` merging, paths resolved against
the file that states them, and typed access to values that records every problem.

:mod:`freight.scenario` turns what this reads into the frozen dataclasses.

(Over 500 lines: the table of every allowed key, and the typed reader that records every
problem it meets, belong together.)
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from freight.defaults import (
    DEFAULTS,
    MODE_EXTRA_FIELDS,
    MODE_FIELDS,
    Param,
)
from freight.problem import MODES
from networks import InputError
from networks.places import KINDS as PLACE_KINDS

# --- the schema ----------------------------------------------------------------------------

_TOP_KEYS = (
    "name",
    "title",
    "description",
    "extends",
    "network",
    "flows",
    "commodities",
    "policy",
    "costs",
    "solver",
    "investments",
    "calibration",
    "sources",
)
_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "network": (
        "road",
        "rail",
        "pipeline",
        "rail_lines",
        "rail_line_stations",
        "places",
        "counties",
        "snap_m",
        "link_tolerance_km",
        "extra_lines",
    ),
    "network.link_tolerance_km": MODES,
    "flows": ("file",),
    "commodities": ("file",),
    "policy": (
        "commodities",
        "threshold_km",
        "distance",
        "max_access_km",
        "enforcement",
        "penalty_cny_per_t",
    ),
    "costs": (
        "carbon_price_cny_per_t",
        "truck_payload_t",
        "handling_cny_per_t",
        "discount_rate",
        "handling",
        "time",
        *MODES,
    ),
    "costs.handling": tuple(sorted(PLACE_KINDS)),
    "solver": ("name",),
    "calibration": ("tolerance_cny_per_t", "margin_cny_per_t", "warning_share", "parameters"),
}
#: Keys of one [investments.<id>] table, of one [calibration.parameters."<key>"] table.
INVESTMENT_KEYS = ("name", "capex_cny", "life_years", "source")
CALIBRATION_PARAMETER_KEYS = ("lower", "upper", "weight", "source", "distribution")
_TIME_KEYS = ("cny_per_t_hour", "dwell_h")
#: Keys whose value is one path (str), and keys whose value is a path or a list of paths.
_PATH_KEYS = (
    "network.road",
    "network.rail",
    "network.pipeline",
    "network.rail_lines",
    "network.rail_line_stations",
    "network.counties",
    "flows.file",
    "commodities.file",
)
_COST_MODE_SECTIONS = tuple(f"costs.{m}" for m in MODES)
_PATH_LIST_KEYS = ("network.places", "network.extra_lines")
_REQUIRED = ("network.road", "network.rail", "network.places", "flows.file", "commodities.file")
#: Files an ``extends`` chain may hold, the scenario included: a scenario is a small diff
#: of another, and a chain of 1,000 files hit Python's recursion limit.
MAX_EXTENDS = 16
#: Path keys whose value may be a folder (a FileGDB ``.gdb`` layer); every other path
#: must be a regular file.
_LAYER_KEYS = ("network.road", "network.rail", "network.pipeline", "network.extra_lines",
               "network.places")  # fmt: skip


def _file_problem(path: str, dotted: str) -> str | None:
    """Why ``path`` cannot be read as the file ``dotted`` names (None: it can)."""
    p = Path(path)
    if not p.exists():
        return f"file not found: {path}"
    if p.is_dir():
        if dotted in _LAYER_KEYS and p.suffix.lower() == ".gdb":
            return None
        return f"is a folder, expected a file: {path}"
    if not p.is_file():  # reading a FIFO or /dev/zero would never end
        return f"not a regular file (a pipe or a device?): {path}"
    return None


# --- reading TOML with extends ---------------------------------------------------------------


def _section_name(section: str) -> str:
    return f"[{section}]" if section else "top level"


def _check_keys(data: dict[str, Any], section: str, file: str, errors: list[InputError]) -> None:
    """Report keys not in the schema, naming the allowed ones; recurse into sub-tables."""
    if section == "":
        allowed: tuple[str, ...] = _TOP_KEYS
    elif section in _COST_MODE_SECTIONS:
        _check_cost_keys(data, section, file, errors)
        return
    elif section in _FREE_SECTIONS:
        _FREE_SECTIONS[section](data, section, file, errors)
        return
    else:
        allowed = _SECTION_KEYS[section]
    for key, value in data.items():
        if key not in allowed:
            errors.append(
                InputError(
                    file,
                    _section_name(section),
                    key,
                    f"unknown key; allowed: {', '.join(allowed)}",
                )
            )
            continue
        sub = f"{section}.{key}" if section else key
        known = sub in _SECTION_KEYS or sub in _COST_MODE_SECTIONS or sub in _FREE_SECTIONS
        if isinstance(value, dict) and known:
            _check_keys(value, sub, file, errors)


def _check_cost_keys(
    data: dict[str, Any], section: str, file: str, errors: list[InputError]
) -> None:
    """``[costs.<mode>]``: factors, or ``[costs.<mode>.<commodity>]`` tables of factors."""
    is_mode = section.count(".") == 1
    mode = section.split(".")[1]
    fields = MODE_FIELDS + MODE_EXTRA_FIELDS.get(mode, ())
    if not is_mode:  # per commodity: everything but the speed
        fields = tuple(f for f in fields if f != "speed_kmh")
    for key, value in data.items():
        if is_mode and isinstance(value, dict):
            _check_cost_keys(value, f"{section}.{key}", file, errors)
        elif key not in fields:
            extra = f", or a [{section}.<commodity>] table" if is_mode else ""
            errors.append(
                InputError(
                    file,
                    _section_name(section),
                    key,
                    f"unknown key; allowed: {', '.join(fields)}{extra}",
                )
            )


def _check_tables_of(allowed: tuple[str, ...], what: str):  # type: ignore[no-untyped-def]
    """A checker for a section of named tables (``[investments.<id>]``), each holding
    only ``allowed`` keys."""

    def check(data: dict[str, Any], section: str, file: str, errors: list[InputError]) -> None:
        for key, value in data.items():
            where = f"{_section_name(section)} {key!r}"
            if not isinstance(value, dict):
                errors.append(
                    InputError(file, where, key, f"expected a table of {what}, got {value!r}")
                )
                continue
            for sub in value:
                if sub not in allowed:
                    errors.append(
                        InputError(file, where, sub, f"unknown key; allowed: {', '.join(allowed)}")
                    )

    return check


def _check_time_keys(
    data: dict[str, Any], section: str, file: str, errors: list[InputError]
) -> None:
    """``[costs.time]``: ``cny_per_t_hour``, ``dwell_h``, ``[costs.time.<commodity>]``."""
    for key, value in data.items():
        if isinstance(value, dict):
            for sub in value:
                if sub != "cny_per_t_hour":
                    errors.append(
                        InputError(
                            file,
                            f"[{section}.{key}]",
                            sub,
                            "unknown key; allowed: cny_per_t_hour",
                        )
                    )
        elif key not in _TIME_KEYS:
            errors.append(
                InputError(
                    file,
                    _section_name(section),
                    key,
                    f"unknown key; allowed: {', '.join(_TIME_KEYS)}, or a "
                    f"[{section}.<commodity>] table",
                )
            )


def _check_sources(
    data: dict[str, Any], section: str, file: str, errors: list[InputError]
) -> None:
    """``[sources]``: dotted parameter key -> the text that justifies its value."""
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            errors.append(
                InputError(
                    file,
                    "[sources]",
                    key,
                    f"expected the text of a source, got {value!r}",
                )
            )


_FREE_SECTIONS = {
    "investments": _check_tables_of(INVESTMENT_KEYS, "name, capex_cny, life_years, source"),
    "calibration.parameters": _check_tables_of(
        CALIBRATION_PARAMETER_KEYS, "lower, upper, weight, source, distribution"
    ),
    "costs.time": _check_time_keys,
    "sources": _check_sources,
}


def _dig(data: dict[str, Any], dotted: str) -> tuple[dict[str, Any] | None, str]:
    """The table holding ``dotted``'s last part (None if absent), and that part."""
    *parents, last = dotted.split(".")
    node: Any = data
    for p in parents:
        node = node.get(p) if isinstance(node, dict) else None
    return (node if isinstance(node, dict) else None), last


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Make the path values this file states absolute, relative to ``base`` (its folder)."""

    def resolve(value: str) -> str:
        return os.path.normpath(base / value)

    for dotted in _PATH_KEYS + _PATH_LIST_KEYS:
        table, key = _dig(data, dotted)
        if table is None or key not in table:
            continue
        value = table[key]
        if isinstance(value, str) and value:
            table[key] = resolve(value)
        elif isinstance(value, list) and all(isinstance(v, str) and v for v in value):
            table[key] = [resolve(v) for v in value]


def _leaves(data: dict[str, Any], prefix: str = "") -> Iterable[str]:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _leaves(value, dotted + ".")
        else:
            yield dotted


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge, scalars and lists replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(
    path: Path, chain: tuple[Path, ...], errors: list[InputError]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read ``path`` and what it extends; return merged data and key -> file that set it."""
    file = str(path)
    if path.exists() and not path.is_file():
        errors.append(InputError(file, "file", "(file)", "not a regular file; give a file"))
        return {}, {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        errors.append(InputError(file, "file", "(file)", "file not found"))
        return {}, {}
    except tomllib.TOMLDecodeError as exc:
        errors.append(InputError(file, "file", "(toml)", f"not valid TOML: {exc}"))
        return {}, {}
    except UnicodeDecodeError:
        errors.append(InputError(file, "file", "(toml)", "not UTF-8 text"))
        return {}, {}
    except OSError as exc:
        errors.append(InputError(file, "file", "(file)", f"cannot read: {exc.strerror}"))
        return {}, {}

    _check_keys(data, "", file, errors)
    _resolve_paths(data, path.parent)
    base_data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    extends = data.pop("extends", None)
    if extends is not None:
        if not isinstance(extends, str) or not extends:
            errors.append(
                InputError(file, "top level", "extends", f"expected a file name, got {extends!r}")
            )
        else:
            parent = Path(os.path.normpath(path.parent / extends))
            if parent in chain or parent == path:
                cycle = " -> ".join(p.name for p in (*chain, path, parent))
                errors.append(InputError(file, "top level", "extends", f"cycle: {cycle}"))
            elif len(chain) + 2 > MAX_EXTENDS:
                errors.append(InputError(file, "top level", "extends",
                                         f"a chain of more than {MAX_EXTENDS} files extending "
                                         "one another; make the scenario extend its base "
                                         "directly"))  # fmt: skip
            elif not parent.is_file():
                errors.append(InputError(file, "top level", "extends", f"file not found: {parent}"))
            else:
                base_data, origins = read_toml(parent, (*chain, path), errors)
    for dotted in _leaves(data):
        origins[dotted] = file
    return _merge(base_data, data), origins


def apply_overrides(
    data: dict[str, Any],
    origins: dict[str, str],
    overrides: Mapping[str, Any],
    file: str,
    errors: list[InputError],
) -> dict[str, Any]:
    """``data`` with each dotted key of ``overrides`` set, checked against the schema as if
    a file extending the scenario set it; ``origins`` records them as "override"."""
    over: dict[str, Any] = {}
    for dotted, value in overrides.items():
        node = over
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                errors.append(InputError(file, "override", dotted, "conflicts with another"))
                break
        else:
            node[last] = value
            origins[dotted] = OVERRIDE
    _check_keys(over, "", f"{file} (override)", errors)
    return _merge(data, over)


OVERRIDE = "override"
"""The origin recorded for a key set by :func:`apply_overrides`."""


# --- typed values --------------------------------------------------------------------------


class Values:
    """Typed access to the merged TOML, recording errors and where each value came from."""

    def __init__(
        self,
        data: dict[str, Any],
        origins: dict[str, str],
        top_file: str,
        errors: list[InputError],
    ) -> None:
        self.data = data
        self.origins = origins
        self.top_file = top_file
        self.errors = errors
        self.parameters: dict[str, Param] = {}

    def has(self, dotted: str) -> bool:
        table, key = _dig(self.data, dotted)
        return table is not None and key in table

    def raw(self, dotted: str) -> Any:
        table, key = _dig(self.data, dotted)
        return None if table is None else table.get(key)

    def error(self, dotted: str, problem: str) -> None:
        section, _, key = dotted.rpartition(".")
        file = self.origins.get(dotted, self.top_file)
        self.errors.append(InputError(file, _section_name(section), key, problem))

    def source_of(self, dotted: str) -> str:
        """Where the scenario's value of ``dotted`` comes from: its ``[sources]`` text, or
        the scenario file that set it."""
        sources = self.data.get("sources")
        file = f"scenario {Path(self.origins.get(dotted, self.top_file)).name}"
        if isinstance(sources, dict) and isinstance(sources.get(dotted), str):
            return f"{sources[dotted]} ({file})"
        return file

    def record(self, dotted: str, value: Any, *, unit: str = "", default_key: str = "") -> None:
        """Remember the effective value of a parameter and where it came from."""
        dkey = default_key or dotted
        if isinstance(value, list | frozenset | set):
            value = tuple(sorted(value)) if not isinstance(value, list) else tuple(value)
        if self.has(dotted):
            unit = unit or (DEFAULTS[dkey].unit if dkey in DEFAULTS else "")
            self.parameters[dotted] = Param(value, unit, self.source_of(dotted))
        elif dkey in DEFAULTS:
            d = DEFAULTS[dkey]
            self.parameters[dotted] = Param(value, unit or d.unit, d.source)

    def number(
        self, dotted: str, *, minimum: float = 0.0, strict: bool = False, record: bool = True
    ) -> float:
        """A finite number >= minimum (> when strict), else the default."""
        default = DEFAULTS[dotted].value if dotted in DEFAULTS else math.nan
        if not self.has(dotted):
            value = float(cast(float, default))
        else:
            raw = self.raw(dotted)
            sign = ">" if strict else "≥"
            ok = isinstance(raw, int | float) and not isinstance(raw, bool)
            if ok and (not math.isfinite(raw) or raw < minimum or (strict and raw == minimum)):
                ok = False
            if not ok:
                self.error(dotted, f"expected a number {sign} {minimum:g}, got {raw!r}")
                value = float(cast(float, default))
            else:
                value = float(raw)
        if record:
            self.record(dotted, value)
        return value

    def choice(self, dotted: str, allowed: tuple[str, ...]) -> str:
        default = str(DEFAULTS[dotted].value)
        value = default
        if self.has(dotted):
            raw = self.raw(dotted)
            if raw in allowed:
                value = raw
            else:
                self.error(dotted, f"expected one of {', '.join(allowed)}, got {raw!r}")
        self.record(dotted, value)
        return value

    def text(self, dotted: str, default: str) -> str:
        if not self.has(dotted):
            return default
        raw = self.raw(dotted)
        if not isinstance(raw, str):
            self.error(dotted, f"expected text, got {raw!r}")
            return default
        return raw

    def section_ok(self, dotted: str) -> bool:
        """False when the key's section is present but is not a table (reported apart)."""
        section = dotted.rpartition(".")[0]
        return not self.has(section) or isinstance(self.raw(section), dict)

    def path(self, dotted: str, *, required: bool) -> str | None:
        if not self.has(dotted):
            if required and self.section_ok(dotted):
                self.error(dotted, "required key missing: give a file name")
            return None
        raw = self.raw(dotted)
        if not isinstance(raw, str) or not raw:
            self.error(dotted, f"expected a file name, got {raw!r}")
            return None
        problem = _file_problem(raw, dotted)
        if problem:
            self.error(dotted, problem)
        return raw

    def paths(self, dotted: str, *, required: bool) -> tuple[str, ...]:
        if not self.has(dotted):
            if required and self.section_ok(dotted):
                self.error(dotted, "required key missing: give a file name or a list of them")
            return ()
        raw = self.raw(dotted)
        items = [raw] if isinstance(raw, str) else raw
        if (
            not isinstance(items, list)
            or not all(isinstance(v, str) and v for v in items)
            or (required and not items)
        ):
            self.error(dotted, f"expected a file name or a list of file names, got {raw!r}")
            return ()
        for item in items:
            problem = _file_problem(item, dotted)
            if problem:
                self.error(dotted, problem)
        return tuple(items)
