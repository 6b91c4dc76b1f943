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


#: What to tell a planner whose file is not UTF-8: the way out from each program they use.
SAVE_AS_UTF8 = (
    "save it as CSV UTF-8: Excel 文件 › 另存为 › 'CSV UTF-8 (逗号分隔)'; WPS 另存为 › "
    "'CSV UTF-8'; LibreOffice 另存为 › 'Text CSV' with 'Edit filter settings' › Unicode (UTF-8)"
)


def encoding_problem(data: bytes) -> str:
    """Why ``data`` is not UTF-8 text, naming the encoding it most likely is.

    A UTF-16 byte-order mark is Excel's "Unicode Text"; bytes that decode as GB18030 (a
    superset of GBK) into mostly Chinese characters are what Excel's plain "CSV" writes on
    Chinese Windows; anything else is named as an unknown 8-bit encoding (e.g. Windows-1252).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        found = "UTF-16 text (Excel's 'Unicode Text')"
    else:
        try:
            han, share = _han_share(data.decode("gb18030"))
        except UnicodeDecodeError:
            han, share = 0, 0.0
        if han and share >= 0.8:
            found = "GBK/GB18030 text (what Excel's plain 'CSV' writes on Chinese Windows)"
        else:
            found = "text in an 8-bit encoding such as Windows-1252"
    return f"not UTF-8 but {found}; {SAVE_AS_UTF8}"


def _han_share(text: str) -> tuple[int, float]:
    """How many of the non-ASCII characters of ``text`` are Chinese, and what share."""
    wide = [c for c in text if ord(c) > 127]
    han = sum(1 for c in wide if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f"
              or "\uff00" <= c <= "\uffef")
    return han, (han / len(wide) if wide else 0.0)


def _gbk_read_as_utf8(text: str, data: bytes) -> int:
    """The row of a GBK file whose bytes happen to be valid UTF-8 (0 when it is not one).

    A short GBK text can decode as UTF-8 into nonsense: 煤炭 in GBK is ``c3ba ccbf``, which
    UTF-8 reads as ``ú̿``. Taken as GBK when the UTF-8 reading holds no Chinese character
    but characters beyond Latin-1 (combining marks, Greek, Cyrillic...) that no planner's
    table mixes with plain ASCII, while the GB18030 reading is Chinese. Accented Latin
    letters alone (Lüliang, café) are left as they are.
    """
    odd = [i for i, c in enumerate(text) if 0x100 <= ord(c) < 0x800]
    if not odd or _han_share(text)[0]:
        return 0
    try:
        han, share = _han_share(data.decode("gb18030"))
    except UnicodeDecodeError:
        return 0
    if han < 1 or share < 0.8:
        return 0
    return text.count("\n", 0, odd[0]) + 1


def table_unreadable(errors: Sequence[InputError]) -> bool:
    """Whether ``errors`` (from :func:`read_table`) say the table could not be read whole:
    a missing or unreadable file, a wrong encoding, a malformed record or a missing
    required column. Checks that compare other tables with it would then only report
    follow-on errors, so callers skip them."""
    return any(
        e.field in ("(file)", "(encoding)", "(csv)")
        or e.problem.startswith("required column missing")
        for e in errors
    )


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
        data = Path(path).read_bytes()
    except FileNotFoundError:
        errors.append(InputError(name, "file", "(file)", "file not found"))
        return []
    except OSError as exc:
        errors.append(InputError(name, "file", "(file)", f"cannot read: {exc.strerror}"))
        return []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        errors.append(InputError(name, f"row {row}", "(encoding)", encoding_problem(data)))
        return []
    garbled = _gbk_read_as_utf8(text, data)
    if garbled:
        errors.append(InputError(name, f"row {garbled}", "(encoding)", encoding_problem(data)))
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
