"""CSV tables as planners keep them: UTF-8 with or without a BOM (Excel's "CSV UTF-8"),
``#`` comment lines and blank lines skipped, whitespace around headers and cells stripped,
every problem reported as one :class:`InputError` naming the file, the row as a
spreadsheet shows it (the first line of the file is row 1) and the column.

The one CSV reader of the project: ``networks`` reads its places and line tables with it,
``freight`` its flows and commodities.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from networks._errors import InputError


@dataclass(frozen=True)
class Row:
    """One record of a table: its spreadsheet row number and its cells by column."""

    number: int
    cells: dict[str, str]

    @property
    def where(self) -> str:
        return f"row {self.number}"


class _Lines:
    """Feed lines to ``csv.reader`` without comment lines; tell where the next record starts.

    (A line starting with ``#`` inside a multi-line quoted cell is taken as a comment too.)
    """

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._next = 0  # index of the next physical line

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while self._next < len(self._lines):
            line = self._lines[self._next]
            self._next += 1
            if line.lstrip().startswith("#"):
                continue
            return line
        raise StopIteration

    def peek_start(self) -> int:
        """The line number the next record will start on (skipping comments)."""
        i = self._next
        while i < len(self._lines) and self._lines[i].lstrip().startswith("#"):
            i += 1
        return i + 1


def read_table(
    path: str | Path,
    *,
    required: Sequence[str],
    errors: list[InputError],
    label: str | None = None,
) -> list[Row]:
    """Read a CSV table, checking that the ``required`` columns are present.

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns that must be in the header; each one missing is one error.
    errors
        Problems are appended here; the rows that could be read are returned.
    label
        How the file is named in messages (default: ``path`` as given).

    Returns
    -------
    list of Row
        Data rows (comment and blank lines skipped), cells keyed by stripped column name;
        a short row's missing cells are ``""``.
    """
    name = label or str(path)
    if Path(path).exists() and not Path(path).is_file():  # a FIFO or a device never ends
        errors.append(InputError(name, "file", "(file)", "not a regular file; give a file"))
        return []
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        errors.append(InputError(name, "file", "(file)", "file not found"))
        return []
    except UnicodeDecodeError as exc:
        errors.append(InputError(name, "file", "(encoding)", f"not UTF-8 text (byte {exc.start})"))
        return []
    except OSError as exc:
        errors.append(InputError(name, "file", "(file)", f"cannot read: {exc.strerror}"))
        return []

    lines = _Lines(text.splitlines(keepends=True))
    reader = csv.reader(lines)
    header: list[str] | None = None
    header_row = 1
    rows: list[Row] = []
    while True:
        start = lines.peek_start()
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(InputError(name, f"row {start}", "(csv)", str(exc)))
            return rows
        cells = [c.strip() for c in record]
        if not any(cells):
            continue
        if header is None:
            header, header_row = cells, start
            seen: set[str] = set()
            for col in header:
                if col in seen:
                    errors.append(
                        InputError(name, f"row {start}", col, "column appears twice in header")
                    )
                seen.add(col)
            missing = [c for c in required if c not in seen]
            for col in missing:
                errors.append(
                    InputError(
                        name,
                        f"row {start}",
                        col,
                        f"required column missing; header has: {', '.join(header)}",
                    )
                )
            if missing:
                return []
            continue
        if len(cells) > len(header) and any(cells[len(header) :]):
            errors.append(
                InputError(
                    name,
                    f"row {start}",
                    "(row)",
                    f"{len(cells)} cells but the header (row {header_row}) has {len(header)}",
                )
            )
            continue
        values = {col: (cells[i] if i < len(cells) else "") for i, col in enumerate(header)}
        rows.append(Row(start, values))
    if header is None:
        for col in required:
            errors.append(InputError(name, "row 1", col, "required column missing: no header"))
    return rows
