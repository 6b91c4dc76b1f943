"""Helper processes of a solve (the pricing worker, the tree prefetch): how they start,
how they answer, and how they end with their parent.

A helper ignores Ctrl-C (the terminal sends it to the whole process group: the parent
handles it and ends its helpers), dies quietly on SIGTERM, and ends when its parent does:
its pipe to the parent closes, the kernel sends it SIGTERM (Linux,
``PR_SET_PDEATHSIG``), and while it waits it checks that its parent is still there. A
helper that fails sends its traceback, and the parent raises it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PARENT_POLL_S = 1.0
"""A helper waiting for its parent's next message checks this often that the parent is
still there."""

_START_METHOD = "fork"


def available() -> bool:
    """Whether helper processes can be started here."""
    return _START_METHOD in multiprocessing.get_all_start_methods()


def context() -> Any:
    """The multiprocessing context helpers start in."""
    return multiprocessing.get_context(_START_METHOD)


@dataclass
class Failure:
    """A helper's exception, as text (its traceback)."""

    text: str


def in_child(parents_end: Any, parent: int) -> None:
    """First thing in a helper (its own process, so its own signal handlers):

    - close its copy of the parent's end of the pipe, if it has one, so the parent's death
      (even by SIGKILL) closes the pipe and the helper's ``recv`` ends;
    - ignore Ctrl-C, which the terminal sends to the whole process group: the parent
      handles it and stops its helpers;
    - die quietly on SIGTERM (``Process.terminate``), not by the parent's handler;
    - on Linux, have the kernel send it SIGTERM when the parent dies
      (``PR_SET_PDEATHSIG``), so it does not finish a long computation for no one.
    """
    if parents_end is not None:
        parents_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(Exception):  # best effort, Linux only
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before that
        os._exit(0)


def start(target: Callable[..., None], args: tuple, theirs: Any, ours: Any) -> Any:
    """Start ``target(*args, theirs, parents_end, parent_pid)`` in a helper process (a
    daemon: it cannot outlive an orderly exit of this one). ``theirs`` is the helper's end
    of its pipe, closed here once the helper has it; ``ours`` this process's end, which a
    forked helper inherits and closes first (``parents_end``)."""
    proc = context().Process(
        target=target,
        args=(*args, theirs, ours if _START_METHOD == "fork" else None, os.getpid()),
        daemon=True,
    )
    proc.start()
    theirs.close()
    return proc


class Helper:
    """``fn(*args)`` computed in a helper process; :meth:`result` waits for its (pickled)
    value."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.conn, theirs = context().Pipe(duplex=False)
        self.proc = start(_send_result, (fn, args), theirs, self.conn)

    def result(self) -> Any:
        try:
            out = self.conn.recv()
        finally:
            self.conn.close()
            self.proc.join(timeout=5)
        if isinstance(out, Failure):
            raise RuntimeError(f"helper process failed: {out.text}")
        return out

    def cancel(self) -> None:
        """End the process if it is still there (its result not wanted)."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5)
        self.conn.close()


def _send_result(
    fn: Callable[..., Any], args: tuple, conn: Any, parents_end: Any, parent: int
) -> None:
    in_child(parents_end, parent)
    try:
        out = fn(*args)
    except Exception:  # noqa: BLE001 -- reported to the parent, which raises it
        out = Failure(traceback.format_exc(limit=5))
    with contextlib.suppress(OSError):  # the parent is gone: no one to tell
        conn.send(out)
    conn.close()
