"""Helper processes of a solve (the pricing worker, the tree prefetch): how they start,
how they answer, and how they end with their parent.

A helper is a fresh interpreter (``subprocess``: fork and exec at once), never a ``fork``
of this process, which has threads by the time a solve runs (HiGHS's and the BLAS
library's): a forked copy of a threaded process may deadlock, and Python 3.12 warns about
it. Nor is it one of multiprocessing's ``spawn`` children, which import the parent's
``__main__`` again -- a caller's script without an ``if __name__ == "__main__"`` guard
would run again in every helper. The helper gets, over a pipe, the parent's ``sys.path``
and then what it is to compute, pickled; what it gets is kept small: the expanded graph
without its networkx graphs (:meth:`~freight.expanded_graph.MultimodalGraph.detached`),
caches without what only this process needs.

A helper ignores Ctrl-C (the terminal sends it to the whole process group: the parent
handles it and ends its helpers), dies quietly on SIGTERM, and ends when its parent does:
its pipe to the parent closes, the kernel sends it SIGTERM (Linux,
``PR_SET_PDEATHSIG``), and while it waits it checks that its parent is still there. It
starts with Ctrl-C blocked (the starting thread's signal mask, which it inherits), so a
Ctrl-C during its start-up is not a traceback of its own. A helper that fails sends its
traceback, and the parent raises it.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing.connection
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PARENT_POLL_S = 1.0
"""A helper waiting for its parent's next message checks this often that the parent is
still there."""

_BOOT = (
    "import pickle, sys\n"
    "from multiprocessing.connection import Connection\n"
    "conn = Connection(int(sys.argv[1]))\n"
    "sys.path[:] = pickle.loads(conn.recv_bytes())\n"
    "from freight.colgen.processes import child_main\n"
    "child_main(conn, int(sys.argv[2]))\n"
)
"""What a helper interpreter runs: take the parent's ``sys.path``, then hand over."""


def available() -> bool:
    """Whether helper processes can be started here (POSIX: fd passing, signal masks)."""
    return os.name == "posix"


@dataclass
class Failure:
    """A helper's exception, as text (its traceback)."""

    text: str


class HelperProcess:
    """A started helper: its pid, and ways to wait for it or end it."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen
        self.pid = popen.pid

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)

    def terminate(self) -> None:
        if self.is_alive():
            self.popen.terminate()

    def kill(self) -> None:
        if self.is_alive():
            self.popen.kill()


def start(target: Callable[..., None], args: tuple) -> tuple[Any, HelperProcess]:
    """Start ``target(*args, conn, parent_pid)`` in a helper process: this process's end
    of the two-way pipe ``conn`` is returned with the process.

    Ctrl-C is blocked in the calling thread while the helper starts (a thread's signal
    mask, not the process's handlers), so the helper inherits it blocked; a Ctrl-C
    meanwhile reaches this process once unblocked."""
    ours, theirs = multiprocessing.connection.Pipe(duplex=True)
    fd = theirs.fileno()
    command = [sys.executable, "-c", _BOOT, str(fd), str(os.getpid())]
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        popen = subprocess.Popen(command, pass_fds=(fd,), stdin=subprocess.DEVNULL)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()
    try:
        ours.send_bytes(pickle.dumps(list(sys.path)))
        ours.send_bytes(pickle.dumps((target, args), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:
        popen.kill()
        popen.wait()
        ours.close()
        raise
    return ours, HelperProcess(popen)


def child_main(conn: Any, parent: int) -> None:
    """The helper's side of :func:`start`: settle its signals, take what it is to compute,
    then run it.

    The helper's cyclic garbage collector is off: what it was sent (the graph's arrays
    and caches, hundreds of MB of objects at a large size) and what it builds (chains,
    columns, cache entries) hold no reference cycles and live as long as the helper, and
    each full collection would walk them all, with the parent waiting for the answer. The
    helper is its own process, ending with the parent's solve or graph; nothing of the
    parent's changes."""
    in_child(parent)
    try:
        target, args = pickle.loads(conn.recv_bytes())
    except (EOFError, OSError):  # the parent is gone before it said what to do
        return
    gc.disable()
    target(*args, conn, parent)


def in_child(parent: int) -> None:
    """First thing in a helper (its own process, so its own signal handlers):

    - ignore Ctrl-C, which the terminal sends to the whole process group: the parent
      handles it and stops its helpers; then unblock it (see :func:`start`);
    - die quietly on SIGTERM (``terminate``), not by a handler of the parent's;
    - on Linux, have the kernel send it SIGTERM when the parent dies
      (``PR_SET_PDEATHSIG``), so it does not finish a long computation for no one.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(Exception):  # best effort, Linux only
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before that
        os._exit(0)


class Helper:
    """``fn(*args)`` computed in a helper process; :meth:`result` waits for its (pickled)
    value."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.conn, self.proc = start(_send_result, (fn, args))

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


def _send_result(fn: Callable[..., Any], args: tuple, conn: Any, parent: int) -> None:
    try:
        out = fn(*args)
    except Exception:  # noqa: BLE001 -- reported to the parent, which raises it
        out = Failure(traceback.format_exc(limit=5))
    with contextlib.suppress(OSError):  # the parent is gone: no one to tell
        conn.send(out)
    conn.close()
