"""A result folder is only ever replaced, whole, by a result folder, by one run at a time,
and a run that cannot write its folder says so before solving (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from freight.cli import main
from freight.resultdir import MARKER, ResultFolder, is_result_folder
from tests.scenario_kit import write_scenario

ROOT = Path(__file__).resolve().parents[1]
RESULT_FILES = {MARKER, "summary.json", "flows.csv", "links.geojson", "bottlenecks.csv",
                "terminals.csv", "results.gpkg", "flows.xlsx", "terminals.xlsx",
                "bottlenecks.xlsx"}  # fmt: skip


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    return write_scenario(tmp_path / "scenario")


def _no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make solving fail the test: the checks must come first."""
    import freight.solve

    def solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("solved before the result folder was checked")

    monkeypatch.setattr(freight.solve, "solve", solve)


def test_out_on_a_foreign_folder_refuses_and_deletes_nothing(
    tmp_path: Path, toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue: mkdir -p v/sub && echo x > v/keep.txt && freight run --no-maps --out v
    deleted keep.txt and sub/ with exit 0."""
    v = tmp_path / "v"
    (v / "sub").mkdir(parents=True)
    (v / "keep.txt").write_text("x")
    with monkeypatch.context() as m:
        _no_solve(m)
        assert main(["run", str(toml), "--no-maps", "--out", str(v)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if "--out" in line]) == 1
    assert "not a result folder" in err[-1] and "--force" in err[-1]
    assert sorted(p.name for p in v.iterdir()) == ["keep.txt", "sub"]
    assert (v / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario", "v"]  # no leftovers
    # --force replaces it with a result folder
    assert main(["run", str(toml), "--no-maps", "--out", str(v), "--force"]) == 0
    assert {p.name for p in v.iterdir()} == RESULT_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario", "v"]


def test_out_dot_and_folders_holding_inputs_are_refused_even_with_force(
    tmp_path: Path, toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue: --out . deleted the working folder's files, then failed."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    _no_solve(monkeypatch)
    for out in (".", str(tmp_path), str(toml.parent)):
        for force in ([], ["--force"]):
            assert main(["run", str(toml), "--no-maps", "--out", out, *force]) == 2
            err = capsys.readouterr().err
            assert "holds" in err
    assert (work / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in toml.parent.iterdir()) == [
        "commodities.csv", "flows.csv", "places.csv", "rail.geojson", "road.geojson", "s.toml"]


def test_a_result_folder_is_replaced_and_an_empty_folder_used(tmp_path: Path, toml: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 0
    assert is_result_folder(out) and {p.name for p in out.iterdir()} == RESULT_FILES
    (out / "flows.csv").write_text("stale")
    assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 0
    assert (out / "flows.csv").read_text(encoding="utf-8-sig").startswith("flow_id,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scenario"]


def test_a_file_or_a_symbolic_link_as_out(
    tmp_path: Path, toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "f"
    f.write_text("keep")
    assert main(["run", str(toml), "--no-maps", "--out", str(f), "--force"]) == 2
    assert f.read_text() == "keep"
    target = tmp_path / "target"
    target.mkdir()
    (target / "a.txt").write_text("a")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert main(["run", str(toml), "--no-maps", "--out", str(link)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert main(["run", str(toml), "--no-maps", "--out", str(link), "--force"]) == 0
    assert not link.is_symlink() and is_result_folder(link)
    assert (target / "a.txt").read_text() == "a"  # what the link pointed to is untouched


def test_unwritable_out_fails_before_solving(
    toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue: an unwritable output folder failed with a traceback after the whole
    solve. sysfs refuses new entries even to root (tests may run as root)."""
    _no_solve(monkeypatch)
    for out in ("/sys/kernel/freight-test-out", "/proc/freight-none/out"):
        assert main(["run", str(toml), "--no-maps", "--out", out]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"{out}: folder: field '--out': cannot")


def test_a_second_run_into_a_locked_folder_stops_in_one_line(
    tmp_path: Path, toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 0
    before = (out / "summary.json").read_bytes()
    capsys.readouterr()
    with ResultFolder(out):  # another run holds the folder
        with monkeypatch.context() as m:
            _no_solve(m)
            assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 1
        err = [line for line in capsys.readouterr().err.splitlines() if "another" in line]
        assert len(err) == 1 and f"(pid {os.getpid()})" in err[0] and str(out) in err[0]
    assert (out / "summary.json").read_bytes() == before
    assert not (tmp_path / ".out.lock").exists()  # the holder removes it
    assert main(["run", str(toml), "--no-maps", "--out", str(out)]) == 0


def test_concurrent_runs_into_one_folder(tmp_path: Path, toml: Path) -> None:
    """The issue: two runs into one folder ended with a traceback in about a third of
    interleavings. Now each pair ends with the folder whole, every run exits 0 or 1, and a
    loser says so in one line (no traceback)."""
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "freight.cli", "run", str(toml), "--no-maps", "--out", str(out)]
    for _ in range(3):
        procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        for p in procs:
            p.stderr.close()  # type: ignore[union-attr]
        assert {rc for rc, _ in results} <= {0, 1}, results
        assert 0 in {rc for rc, _ in results}
        for rc, err in results:
            assert "Traceback" not in err
            if rc == 1:
                assert err.strip().splitlines()[-1].startswith("error: another freight run")
        assert {p.name for p in out.iterdir()} == RESULT_FILES
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scenario"]


_KILL = textwrap.dedent(
    """
    import os, shutil, sys
    from pathlib import Path
    import freight.resultdir as rd

    out, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    calls = [0]

    def killing(fn):
        def wrapped(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os._exit(137)  # as SIGKILL: no cleanup code runs
            return fn(*args, **kwargs)
        return wrapped

    rd.os.rename = killing(os.rename)
    rd.shutil.rmtree = killing(shutil.rmtree)
    with rd.ResultFolder(out) as folder:
        for name in ("a.txt", "b.txt"):
            (folder.staging / name).write_text("new")
        folder.commit()
    print(calls[0])
    """
)


def _state(out: Path) -> str:
    """'old' or 'new' when ``out`` (or, killed between the renames, the folder set aside)
    is that result whole; anything else is a lost or mixed result."""
    found = [out] if out.exists() else list(out.parent.glob(f".{out.name}.old-*/{out.name}"))
    assert len(found) == 1, found
    texts = {p.name: p.read_text() for p in found[0].iterdir() if p.name != MARKER}
    assert is_result_folder(found[0])
    assert texts in ({"a.txt": "old", "b.txt": "old"}, {"a.txt": "new", "b.txt": "new"}), texts
    return texts["a.txt"]


def test_a_kill_at_any_step_of_the_swap_leaves_a_whole_result(tmp_path: Path) -> None:
    """Killed (no cleanup) before each rename and delete of the swap: the old or the new
    result is whole; the next run puts a result set aside back and cleans every leftover."""
    out = tmp_path / "out"

    def old_result() -> None:
        with ResultFolder(out) as folder:
            for name in ("a.txt", "b.txt"):
                (folder.staging / name).write_text("old")
            folder.commit()

    def run(kill_at: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", _KILL, str(out), str(kill_at)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    old_result()
    steps = int(run(0).stdout)  # renames and deletes of one swap, none killed
    assert steps >= 3
    seen = set()
    for kill_at in range(1, steps + 1):
        old_result()
        assert run(kill_at).returncode == 137
        seen.add(_state(out))
        old_result()  # the next run: puts back, cleans up, replaces
        assert _state(out) == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert seen == {"old", "new"}


def test_leftovers_of_old_killed_runs_are_cleaned_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stage = tmp_path / ".out.tmp-abc"
    stage.mkdir()
    (stage / MARKER).write_text("x")
    (tmp_path / ".out.tmp-empty").mkdir()
    foreign = tmp_path / ".out.tmp-notours"
    foreign.mkdir()
    (foreign / "data.txt").write_text("keep")
    with ResultFolder(out) as folder:
        (folder.staging / "a.txt").write_text("new")
        folder.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.tmp-notours", "out"]
