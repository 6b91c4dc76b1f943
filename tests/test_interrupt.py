"""Ctrl-C and SIGTERM end a run with one line and exit 130/143; no signal (SIGKILL
included) leaves a half-written result folder or an orphaned pricing worker (issue 15).

A real ``freight run`` in a subprocess, on the generated ``large`` instance with the
size from which a solve starts its helpers lowered to 50 flows
(``SolveOptions.large_flows``; the instance has 2,000), so that it starts the
terminal-trees helper and then the pricing worker as a province run does, in seconds.
The signal goes to the run once the pricing worker is there. Needs fork and /proc (Linux).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from freight.resultdir import ResultFolder, is_result_folder

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or not Path("/proc/self/task").is_dir(), reason="needs fork, /proc"
)

_RUN = textwrap.dedent(
    """
    import functools
    import signal
    import sys
    # Ctrl-C as a terminal's foreground job has it: a job started in the background of a
    # shell without job control (a CI script's `cmd &`) inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import freight.solve
    from freight.colgen import SolveOptions
    # start the helpers as at 4,000 flows and more
    freight.solve.solve = functools.partial(
        freight.solve.solve, options=SolveOptions(large_flows=50))
    from freight.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The large instance and a network cache holding its network (so each run starts
    solving within a second or two)."""
    from benchmarks.generate import generate
    from freight.scenario import load_scenario
    from networks import load_network

    base = tmp_path_factory.mktemp("interrupt")
    toml = generate("large", base / "large", seed=0)
    load_network(load_scenario(toml).network, cache_dir=base / "cache")
    return toml, base / "cache"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _is_helper(pid: int) -> bool:
    """A solve's helper process (freight.colgen.processes)."""
    try:
        return b"freight.colgen.processes" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _old_result(out: Path) -> None:
    with ResultFolder(out) as folder:
        (folder.staging / "summary.json").write_text("{}")
        folder.commit()


@pytest.mark.parametrize("how", ["SIGINT to the process group (Ctrl-C)", "SIGTERM", "SIGKILL"])
def test_a_signal_during_the_solve_leaves_no_worker_and_no_half_folder(
    how: str, instance: tuple[Path, Path], tmp_path: Path
) -> None:
    toml, cache = instance
    out = tmp_path / "out"
    _old_result(out)
    env = {**os.environ, "FREIGHT_CACHE_DIR": str(cache), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN, "run", str(toml), "--no-maps", "--out", str(out)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    seen: list[int] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "solving with the rule" in line:
                break
        # the helper for the terminals' trees starts first, the pricing worker second
        deadline = time.monotonic() + 60
        helpers: list[int] = []
        while len(helpers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            seen += [c for c in _children(proc.pid) if c not in seen]
            # asked while it is there (a child is a helper once it has exec'd)
            helpers += [c for c in seen if c not in helpers and _is_helper(c)]
            time.sleep(0.005)
        assert len(helpers) >= 2, "the run started no pricing worker"
        time.sleep(0.2)
        assert _alive(helpers[1])
        if how.startswith("SIGINT"):
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
        code = proc.wait(timeout=60)
        err = proc.stderr.read()  # EOF: no helper holds the pipe any more
        # no helper outlives the run: the worker notices its parent is gone
        deadline = time.monotonic() + 10
        while any(_alive(c) for c in seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(c) for c in seen)
    finally:
        for pid in [proc.pid, *seen]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.stderr is not None:
            proc.stderr.close()
    assert "Traceback" not in err
    if how == "SIGKILL":
        assert code == -signal.SIGKILL
    else:
        last = err.strip().splitlines()[-1]
        assert code == (130 if how.startswith("SIGINT") else 143)
        word = "interrupted (Ctrl-C)" if how.startswith("SIGINT") else "terminated (SIGTERM)"
        assert last == f"freight: {word}; no result folder was left half-written"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # staging, lock gone
    # the old result is whole, and the next run into the folder cleans what a kill left
    assert is_result_folder(out) and (out / "summary.json").read_text() == "{}"
    with ResultFolder(out):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
