"""Writing CSV a planner opens in Excel: UTF-8 with a BOM, and no cell that starts a formula.

Every CSV file the project writes goes through :func:`write_csv`, so every cell goes
through :func:`neutralise`. Following OWASP's guidance on CSV injection, a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed gets a
single quote in front: Excel and LibreOffice then show it as the text it is (a shipper
named ``=1+1`` or ``@SUM(1+1)`` stays a name) instead of evaluating it.

A cell that *is* a number is left alone, negative or not: ``-12.5`` or ``-1e-09`` is not
a formula, and a quote in front would turn a column of numbers into text for every
spreadsheet and script that reads it. "Is a number" means the whole cell matches a plain
decimal number (optional sign, digits, optional point and exponent); ``-1+2``, ``-A1`` or
``-`` are not numbers, so they are neutralised.

A cell that already starts with a quote gets one more, so the quoting can be undone
exactly (:func:`restore`, used by :mod:`maps.results` when it reads a result folder back),
and Excel, which hides one leading quote, shows the original text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula (OWASP), plus the
#: quote used to neutralise them (so that quoting is reversible).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n", "'")
_NUMBER = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)")


def neutralise(value: Any) -> str:
    """The text of a CSV cell, with a ``'`` in front when it would start a formula.

    Examples
    --------
    >>> neutralise("=1+1"), neutralise("@SUM(1+1)"), neutralise("-12.5"), neutralise(-3)
    ("'=1+1", "'@SUM(1+1)", '-12.5', '-3')
    >>> neutralise(None), neutralise("信发集团")
    ('', '信发集团')
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo :func:`neutralise` on a cell read back from a file this project wrote."""
    return text[1:] if text.startswith("'") else text


def write_csv(path: str | Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` (dicts; missing or None cells blank) under a header of ``columns``,
    UTF-8 with a BOM (Excel's "CSV UTF-8"), every cell through :func:`neutralise`."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([neutralise(c) for c in columns])
        for r in rows:
            w.writerow([neutralise(r.get(c)) for c in columns])
