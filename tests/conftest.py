"""Fixtures shared by test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The embedded Liaocheng default run (maps and report included), once per session:
    the end-to-end tests read its files and the browser test opens its map and report."""
    from freight.cli import default_scenario
    from freight.progress import Progress
    from freight.run import run

    out: Path = tmp_path_factory.mktemp("liaocheng") / "liaocheng-2019"
    result = run(default_scenario(), out, progress=Progress(None))
    return {"out": out, "result": result}
