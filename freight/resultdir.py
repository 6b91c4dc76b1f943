"""Result folders: replaced only whole, only by result folders, by one run at a time.

A run writes its files into a staging folder beside the result folder and, once every file
is there, swaps it in. What this module guarantees, whatever happens to the process:

- **Only result folders are replaced.** Every result folder holds a marker file,
  :data:`MARKER`. A folder given as ``--out`` that exists, is not empty and has no marker is
  someone else's: the run refuses before any work (exit 2) unless ``force`` is given. A
  folder that holds an input of the run, the current working folder, the home folder or
  ``/`` (or any folder containing one of those) is refused even with ``force``; so is a
  path that is a file.
- **A result is replaced whole.** The swap is: rename the old folder aside
  (``.NAME.old-XXXX``), rename the new one in, then delete the old one. A kill at any point
  leaves the old result or the new one whole -- under its own name, or, killed between the
  two renames, aside, where the next run into the folder puts it back before anything else.
- **Leftovers are cleaned.** Staging folders (``.NAME.tmp-XXXX``) and folders set aside
  that a killed run left are deleted by the next run into the same folder -- only those
  carrying the marker, so nothing that is not ours is ever deleted.
- **One run at a time.** A run holds an exclusive lock (``flock`` on ``.NAME.lock`` beside
  the folder) from before its checks to the end of the swap; a second run into the same
  folder stops at once with one line (:class:`~networks.BusyError`). The lock file is
  removed by its holder, under the lock, and a run that locked a file another run had
  already removed locks afresh, so no two runs ever hold it.
- **Writability is known before solving**: the staging folder (with its marker) is created
  when the folder is opened, so a run that cannot write fails before any work.

Examples
--------
>>> with ResultFolder(out) as folder:                 # doctest: +SKIP
...     write_results(..., folder.staging)
...     folder.commit()
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from networks import BusyError, InputError

#: The file that says a folder is a result folder of this tool.
MARKER = ".freight-result"
#: Its content (no date, no run: two runs of one scenario write the same bytes).
MARKER_TEXT = "result folder of the liaocheng-freight optimiser (freight run); format 1\n"


def is_result_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder holding :data:`MARKER`."""
    p = Path(path)
    return p.is_dir() and not p.is_symlink() and (p / MARKER).is_file()


def _is_empty_dir(path: Path) -> bool:
    with os.scandir(path) as it:
        return next(it, None) is None


def _contains(folder: Path, other: Path) -> bool:
    return other == folder or folder in other.parents


class ResultFolder:
    """The result folder ``path``, opened for replacement (a context manager).

    Parameters
    ----------
    path : path
        The result folder (created, with its parents, when missing).
    force : bool
        Replace a non-empty folder that is not a result folder (or a symbolic link, which
        is replaced itself, not what it points to).
    protect : iterable of path
        Files that must survive the run (its inputs): a folder holding one is refused.

    Attributes
    ----------
    staging : Path
        Where the run writes its files (holding the marker already).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        force: bool = False,
        protect: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.given = Path(path)
        self.path = Path(os.path.abspath(path))
        self.parent = self.path.parent
        self.name = self.path.name
        self.force = force
        self.protect = [Path(os.path.abspath(p)) for p in protect]
        self._lock_fd: int | None = None
        self._stage: Path | None = None
        self.committed = False

    # ------------------------------------------------------------------ opening
    def __enter__(self) -> ResultFolder:
        self._refuse_unsafe()
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(f"cannot create its parent folder: {exc.strerror}") from None
        self._lock()
        try:
            self._clean_leftovers()
            self._check_replaceable()
            self._make_staging()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._stage is not None:
                shutil.rmtree(self._stage, ignore_errors=True)
                self._stage = None
        finally:
            self._unlock()

    @property
    def staging(self) -> Path:
        """The folder to write the new result into."""
        if self._stage is None:
            raise RuntimeError("ResultFolder used outside its with-block")
        return self._stage / self.name

    def _error(self, problem: str) -> InputError:
        return InputError(str(self.path), "folder", "--out", problem)

    def _refuse_unsafe(self) -> None:
        p = self.path
        if p.is_symlink():
            if not self.force:
                raise self._error("is a symbolic link; give the folder itself, or --force "
                                  "to replace the link (not what it points to)")
        elif p.exists() and not p.is_dir():
            raise self._error("is a file, not a folder")
        real = Path(os.path.realpath(p))
        guarded = [("the working folder", Path.cwd()), ("the root folder", Path(real.anchor))]
        with contextlib.suppress(RuntimeError, KeyError):  # no home folder known
            guarded.append(("the home folder", Path.home()))
        for what, g in guarded:
            g = Path(os.path.realpath(g))
            if _contains(real, g):
                raise self._error(f"holds {what} {g}; a result folder is replaced whole, so "
                                  "give a folder of its own (e.g. runs/NAME)")  # fmt: skip
        for f in self.protect:
            if _contains(real, Path(os.path.realpath(f))):
                raise self._error(f"holds an input of this run ({f}); give another folder")

    def _check_replaceable(self) -> None:
        p = self.path
        if p.is_symlink() or not p.exists():
            return
        if is_result_folder(p):
            if not os.access(p, os.W_OK | os.X_OK):
                raise self._error("cannot replace it: no write permission on the folder")
            return
        if not _is_empty_dir(p) and not self.force:
            raise self._error(
                f"is not empty and is not a result folder (no {MARKER} in it): refusing to "
                "replace it; give a new or empty folder, or --force to replace it"
            )

    def _make_staging(self) -> None:
        try:
            stage = Path(tempfile.mkdtemp(prefix=f".{self.name}.tmp-", dir=self.parent))
        except OSError as exc:
            raise self._error(f"cannot write into {self.parent}: {exc.strerror}") from None
        self._stage = stage
        try:
            (stage / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
            new = stage / self.name
            new.mkdir()
            (new / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        except OSError as exc:
            raise self._error(f"cannot write into {self.parent}: {exc.strerror}") from None

    # ------------------------------------------------------------------ the swap
    def commit(self) -> Path:
        """Put the staged result in place of the folder (see the module docstring);
        returns the folder's path as given."""
        if self._stage is None:
            raise RuntimeError("ResultFolder.commit outside its with-block")
        new = self.staging
        new.chmod(0o755)  # a result folder is for sharing
        p = self.path
        aside: Path | None = None
        if p.is_symlink():
            p.unlink()
        elif p.exists():
            if _is_empty_dir(p):
                p.rmdir()
            else:
                if not is_result_folder(p):  # forced: ours from now on, so cleanup may go
                    (p / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
                aside = Path(tempfile.mkdtemp(prefix=f".{self.name}.old-", dir=self.parent))
                os.rename(p, aside / self.name)  # the aside folder holds the old result
                (aside / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        os.rename(new, p)
        self.committed = True
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        shutil.rmtree(self._stage, ignore_errors=True)
        self._stage = None
        return self.given

    # ------------------------------------------------------------------ leftovers
    def _leftovers(self) -> list[Path]:
        prefixes = (f".{self.name}.tmp-", f".{self.name}.old-")
        out = []
        with os.scandir(self.parent) as it:
            for e in it:
                if e.name.startswith(prefixes) and e.is_dir(follow_symlinks=False):
                    out.append(Path(e.path))
        return sorted(out)

    def _clean_leftovers(self) -> None:
        """Put back a result a killed swap left aside, then delete what killed runs left
        (only folders holding the marker, and empty ones)."""
        left = self._leftovers()
        if not os.path.lexists(self.path):
            olds = [d for d in left if d.name.startswith(f".{self.name}.old-")
                    and is_result_folder(d / self.name)]  # fmt: skip
            if olds:
                newest = max(olds, key=lambda d: d.stat().st_mtime)
                os.rename(newest / self.name, self.path)
        for d in left:
            if (d / MARKER).is_file() or (d.name.startswith(f".{self.name}.old-")
                                          and is_result_folder(d / self.name)):  # fmt: skip
                shutil.rmtree(d, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    d.rmdir()  # empty: a run killed as it made it

    # ------------------------------------------------------------------ the lock
    @property
    def lock_path(self) -> Path:
        return self.parent / f".{self.name}.lock"

    def _lock(self) -> None:
        path = self.lock_path
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise self._error(f"cannot write into {self.parent}: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                holder = os.read(fd, 64).decode("ascii", "replace").strip()
                os.close(fd)
                who = f" (pid {holder})" if holder.isdigit() else ""
                raise BusyError(f"another freight run{who} is writing {self.path}; nothing "
                                "done -- run again when it has finished") from None  # fmt: skip
            # the holder before us may have removed the file: lock the one at the path
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
                self._lock_fd = fd
                return
            os.close(fd)

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.lock_path)  # under the lock: the next run makes a new file
        os.close(fd)
