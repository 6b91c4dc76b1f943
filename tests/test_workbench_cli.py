"""``freight users``: the first admin is made on the server, by the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from freight.cli import main


def _users(monkeypatch: pytest.MonkeyPatch, data: Path, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["users", *args, "--data-dir", str(data)])


def test_users_add_list_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _users(monkeypatch, tmp_path, "add", "Chief", "--role", "admin", "--password-stdin",
                  stdin="a long password\n") == 0  # fmt: skip
    assert (tmp_path / "workbench.sqlite3").exists()
    assert _users(monkeypatch, tmp_path, "add", "chief", "--password-stdin",
                  stdin="another password\n") == 2  # fmt: skip
    assert "exists" in capsys.readouterr().err
    assert _users(monkeypatch, tmp_path, "add", "x", "--password-stdin", stdin="short\n") == 2
    assert _users(monkeypatch, tmp_path, "set", "chief", "--role", "viewer", "--disable") == 0
    capsys.readouterr()
    assert _users(monkeypatch, tmp_path, "list") == 0
    out = capsys.readouterr().out.split()
    assert out == ["chief", "viewer", "disabled"]
    assert _users(monkeypatch, tmp_path, "set", "nobody", "--enable") == 2
