"""Two runs of one scenario write the same bytes, but for the solver's seconds (issue 15:
folium's element ids were random, so map.html differed on every run).

Each run in its own process with its own hash seed (set and dict orders), the first
building the network, the second reading it from the cache.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(toml: Path, out: Path, cache: Path, seed: int) -> None:
    env = {**os.environ, "FREIGHT_CACHE_DIR": str(cache), "PYTHONHASHSEED": str(seed)}
    r = subprocess.run([sys.executable, "-m", "freight.cli", "run", str(toml), "--out", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr


def _without_seconds(name: str, data: bytes) -> bytes:
    """The files with the solver's wall-clock seconds taken out (the one thing that
    differs by design: summary.json solver.seconds, solver.without_rule.seconds, and the
    report's note of them)."""
    if name == "summary.json":
        s = json.loads(data)
        s["solver"].pop("seconds")
        if isinstance(s["solver"].get("without_rule"), dict):
            s["solver"]["without_rule"].pop("seconds", None)
        return json.dumps(s, ensure_ascii=False, indent=2).encode()
    if name == "report.html":
        return re.sub(rb"iterations, [0-9.,]+ s\.</p>", b"iterations, _ s.</p>", data)
    return data


def test_two_runs_write_the_same_bytes_but_the_seconds(tmp_path: Path) -> None:
    from benchmarks.generate import generate

    toml = generate("small", tmp_path / "small", seed=4)
    a, b = tmp_path / "a", tmp_path / "b"
    _run(toml, a, tmp_path / "cache", seed=1)  # builds the network
    _run(toml, b, tmp_path / "cache", seed=2)  # reads it from the cache
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert {"map.html", "report.html", "summary.json", "flows.csv"} <= set(names)
    for name in names:
        left, right = (a / name).read_bytes(), (b / name).read_bytes()
        assert _without_seconds(name, left) == _without_seconds(name, right), name
    # the seconds are where the contract says, and only there
    s = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(s["solver"]["seconds"], float)
