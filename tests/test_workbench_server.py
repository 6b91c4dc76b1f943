"""The workbench as a real server (``freight serve`` in a subprocess on localhost, SQLite,
a local Dask cluster of one worker): bad uploads refused with one message and nothing
left behind, a good upload accepted, roles and CSRF enforced, data strings escaped, a
failed job showing the input error's line, cancelling, and a job killed with the server
marked interrupted after the restart while nothing else is lost."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from workbench.db import Audit, Job, Scenario, User
from workbench.devserver import LocalServer, Visitor, add_user, add_users

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "your-city"
PASSWORD = "test-password-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data = tmp_path_factory.mktemp("wb-server")
    add_users(data, {"ana": "analyst", "vic": "viewer", "adm": "admin"}, PASSWORD)
    srv = LocalServer(data)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def ana(server: LocalServer) -> Iterator[Visitor]:
    v = Visitor(server.url, "ana", PASSWORD)
    yield v
    v.close()


def _counts(server: LocalServer) -> tuple[int, int, list[str]]:
    """Scenario rows, job rows, and what lies in the data dir's scenarios/ and top level."""
    engine = create_engine(f"sqlite:///{server.data_dir / 'workbench.sqlite3'}")
    try:
        with engine.connect() as c:
            n_s = c.execute(select(func.count(Scenario.id))).scalar_one()
            n_j = c.execute(select(func.count(Job.id))).scalar_one()
    finally:
        engine.dispose()
    folders = sorted(p.name for p in (server.data_dir / "scenarios").glob("*"))
    tops = sorted(p.name for p in server.data_dir.glob("upload-*"))
    return n_s, n_j, folders + tops


def _zip(members: dict[str, bytes | str], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _example(folder: str = "my-city", **replace: str) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for f in sorted(EXAMPLE.iterdir()):
        out[f"{folder}/{f.name}"] = replace.get(f.name, f.read_bytes())
    return out


def _upload(v: Visitor, data: bytes, name: str = "scenario.zip"):  # type: ignore[no-untyped-def]
    return v.post("/scenarios/upload", files={"file": (name, data, "application/zip")})


def _refusal(html: str) -> str:
    m = re.search(r'<div class="error" id="upload-error"><b>(.*?)</b>', html, re.S)
    assert m, html[-2000:]
    return m.group(1)


BAD_UPLOADS = {
    "escapes with ..": (lambda: _zip({"city/../../evil.csv": "x", "city/a.toml": ""}), "escapes"),
    "absolute path": (lambda: _zip({"/etc/cron.d/evil": "x"}), "absolute"),
    "symlink": (lambda: _zip({"city/a.toml": ""}, symlink="city/flows.csv"), "symbolic link"),
    "ratio bomb": (lambda: _zip({"city/a.toml": "", "city/flows.csv": b"\0" * (30 * 2**20)}),
                   "zip bomb"),
    "too many files": (lambda: _zip({f"city/f{i}.csv": "" for i in range(250)}), "files"),
    "not a zip": (lambda: b"PK not really a zip", "not a zip"),
    "does not validate": (
        lambda: _zip(_example(**{"flows.csv": (EXAMPLE / "flows.csv").read_text()
                                 .replace("dz_hualu", "dz_nowhere", 1)})),
        "does not validate",
    ),
    "names a file outside": (
        lambda: _zip(_example(**{"dezhou.toml": (EXAMPLE / "dezhou.toml").read_text()
                                 .replace('file = "flows.csv"', 'file = "/etc/passwd"')})),
        "outside its folder",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_with_one_message_and_leaves_nothing(
    server: LocalServer, ana: Visitor, case: str
) -> None:
    make, words = BAD_UPLOADS[case]
    before = _counts(server)
    r = _upload(ana, make())
    assert r.status_code == 400
    message = _refusal(r.text)
    assert words in message, message
    assert "\n" not in message.strip()
    assert _counts(server) == before


def test_a_good_upload_is_validated_and_kept(server: LocalServer, ana: Visitor) -> None:
    before = _counts(server)
    r = _upload(ana, _zip(_example()), "dezhou.zip")
    assert r.status_code == 200 and "/scenarios/" in str(r.url), r.text[-1500:]
    assert "德州" in r.text and 'id="run"' in r.text
    after = _counts(server)
    (new,) = set(after[2]) - set(before[2])
    assert after[0] == before[0] + 1 and new.startswith("dezhou")
    assert (server.data_dir / "scenarios" / new / "upload" / "my-city" / "dezhou.toml").exists()


def test_a_viewer_cannot_run_derive_or_upload(server: LocalServer, ana: Visitor) -> None:
    vic = Visitor(server.url, "vic", PASSWORD)
    try:
        sid = vic.scenario_id("liaocheng-2019")
        home = vic.get("/").text
        assert 'class="run"' not in home and "/derive" not in home
        before = _counts(server)
        assert vic.post(f"/scenarios/{sid}/run").status_code == 403
        assert vic.get(f"/scenarios/{sid}/derive").status_code == 403
        assert _upload(vic, _zip(_example())).status_code == 403
        assert vic.get("/admin/users").status_code == 403
        assert _counts(server) == before
        assert vic.get(f"/scenarios/{sid}").status_code == 200  # but may look
    finally:
        vic.close()


def test_a_form_without_its_csrf_token_is_refused(server: LocalServer, ana: Visitor) -> None:
    sid = ana.scenario_id("liaocheng-2019")
    before = _counts(server)
    r = ana.http.post(f"/scenarios/{sid}/run", data={"csrf": "forged"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = ana.http.post(f"/scenarios/{sid}/run")
    assert r.status_code in (403, 422)
    assert _counts(server) == before


def test_data_strings_are_escaped(server: LocalServer, ana: Visitor) -> None:
    sid = ana.scenario_id("liaocheng-2019")
    r = ana.post(f"/scenarios/{sid}/derive", data={"name": "xss", "title":
                                                    '<script>alert("x")</script>'})  # fmt: skip
    assert r.status_code == 200, r.text[-1500:]
    assert "<script>alert" not in r.text and "&lt;script&gt;alert" in r.text


def test_derive_switches_on_a_planned_siding_and_changes_a_terminal(
    server: LocalServer, ana: Visitor
) -> None:
    sid = ana.scenario_id("liaocheng-after-exits")
    form = ana.get(f"/scenarios/{sid}/derive").text
    key = re.search(r'name="planned" value="([^"]+#0)"', form)
    assert key and "鲁西集团铁路专用线" in form
    r = ana.post(
        f"/scenarios/{sid}/derive",
        data={
            "name": "luxi-on",
            "title": "鲁西专用线 on",
            "planned": key.group(1),
            "terminal_id": "stn_chiping",
            "terminal_capacity_t": "12000000",
            "carbon_price": "50",
            "enforcement": "soft",
            "penalty_cny_per_t": "80",
        },
    )
    assert r.status_code == 200 and "/scenarios/" in str(r.url), r.text[-2000:]
    toml = ana.get(str(r.url) + "/scenario.toml").text
    assert 'extends = "data/liaocheng/liaocheng-after-exits.toml"' in toml
    assert 'network.extra_lines = ["planned-1.geojson"]' in toml
    assert "costs.carbon_price_cny_per_t = 50.0" in toml and 'policy.enforcement = "soft"' in toml
    root = server.data_dir / "scenarios" / "luxi-on"
    planned = (root / "planned-1.geojson").read_text(encoding="utf-8")
    assert "鲁西集团铁路专用线" in planned and "聊泰" not in planned
    places = next(root.glob("places-*.csv")).read_text(encoding="utf-8")
    assert re.search(r"^stn_chiping,.*,12000000,", places, re.M)
    from freight.scenario import load_scenario

    loaded = load_scenario(root / "scenario.toml")
    assert loaded.policy.enforcement == "soft" and loaded.policy.penalty_cny_per_t == 80.0


def test_a_derived_scenario_that_does_not_load_is_refused_and_leaves_nothing(
    server: LocalServer, ana: Visitor
) -> None:
    sid = ana.scenario_id("liaocheng-2019")
    before = _counts(server)
    r = ana.post(
        f"/scenarios/{sid}/derive",
        data={"name": "nope", "line_id": "no_such_line", "line_capacity_t": "5"},
    )
    assert r.status_code == 400 and "no_such_line" in r.text
    r = ana.post(f"/scenarios/{sid}/derive", data={"name": "nope", "threshold_km": "abc"})
    assert r.status_code == 400 and "not a number" in r.text
    assert _counts(server) == before


def test_a_failed_job_shows_the_input_errors_line(server: LocalServer, ana: Visitor) -> None:
    sid = ana.scenario_id("liaocheng-2019")
    r = ana.post(f"/scenarios/{sid}/derive",
                 data={"name": "broken", "line_id": "hanji", "line_capacity_t": "1e6"})  # fmt: skip
    assert r.status_code == 200, r.text[-1500:]
    table = server.data_dir / "scenarios" / "broken" / "rail_lines.csv"
    assert "hanji,邯济铁路,Handan–Jinan railway,1000000," in table.read_text(encoding="utf-8")
    table.unlink()  # the file goes missing after the scenario was accepted
    job = ana.run(int(str(r.url).rsplit("/", 1)[1]))
    assert ana.wait(job) == "failed"
    page = ana.get(f"/jobs/{job}").text
    m = re.search(r'<pre class="error" id="job-error">(.*?)</pre>', page, re.S)
    assert m and "input error" in m.group(1) and "rail_lines.csv" in m.group(1), page[-2000:]


def test_cancel_a_queued_and_a_running_job(server: LocalServer, ana: Visitor) -> None:
    sid = ana.scenario_id("liaocheng-2019")
    first, second = ana.run(sid), ana.run(sid)  # one worker: the second waits
    assert ana.post(f"/jobs/{second}/cancel").status_code == 200
    assert ana.status(second)[0] == "cancelled"
    deadline = time.monotonic() + 120
    while ana.status(first)[0] != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ana.post(f"/jobs/{first}/cancel").status_code == 200
    assert ana.wait(first) == "cancelled"
    assert not (server.data_dir / "runs" / f"job-{first}").exists()


def test_a_small_load_check_runs_without_errors(server: LocalServer, ana: Visitor) -> None:
    """benchmarks/workbench_load.py in small: concurrent views of a finished run's page and
    map while a job runs (no timing asserted: the figures are in benchmarks/README.md)."""
    from benchmarks.workbench_load import load

    sid = ana.scenario_id("liaocheng-2019")
    finished = ana.run(sid)
    assert ana.wait(finished) == "done"
    running = ana.run(sid)
    visitors = [Visitor(server.url, "vic", PASSWORD) for _ in range(5)]
    try:
        out = load(visitors, finished, rounds=1)
    finally:
        for v in visitors:
            v.close()
    assert out["errors"] == []
    assert len(out["times"]["result page"]) == len(out["times"]["map.html"]) == 5
    assert ana.wait(running) == "done"


def test_every_job_and_scenario_is_audited(server: LocalServer) -> None:
    engine = create_engine(f"sqlite:///{server.data_dir / 'workbench.sqlite3'}")
    try:
        with engine.connect() as c:
            actions = {tuple(r) for r in c.execute(select(Audit.username, Audit.action))}
            users = {r[0] for r in c.execute(select(User.username))}
    finally:
        engine.dispose()
    assert {("ana", "scenario.derive"), ("ana", "job.submit"), ("ana", "login"),
            ("ana", "job.cancel")} <= actions  # fmt: skip
    assert users == {"ana", "vic", "adm"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (the embedded SQLite default) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    from tests.pgserver import fresh_database, postgres_server

    with postgres_server() as url:
        yield fresh_database(url, "workbench")


def test_a_job_killed_with_the_server_is_interrupted_and_nothing_else_is_lost(
    tmp_path: Path, database: str | None
) -> None:
    data = tmp_path / "wb"
    srv = LocalServer(data, db=database).start()
    try:
        # a new database: serve says how to make the first admin
        log = srv.log.read_text()
        assert "freight users add NAME --role admin" in log
        assert (database is None) == ("postgresql" not in log)
        add_user(data, "ana", PASSWORD, "analyst", db=database)
        v = Visitor(srv.url, "ana", PASSWORD)
        sid = v.scenario_id("liaocheng-2019")
        done = v.run(sid)
        assert v.wait(done) == "done"
        files = sorted(p.name for p in (data / "runs" / f"job-{done}").iterdir())
        running, queued = v.run(sid), v.run(sid)
        deadline = time.monotonic() + 120
        while v.status(running)[0] != "running" or v.status(running)[1] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        v.close()
        srv.kill()  # mid-job, as a crash would
        srv = LocalServer(data, db=database).start()
        v = Visitor(srv.url, "ana", PASSWORD)
        assert v.status(running)[0] == "interrupted"
        assert "the server stopped while this job ran" in v.get(f"/jobs/{running}").text
        assert v.status(done)[0] == "done"
        assert sorted(p.name for p in (data / "runs" / f"job-{done}").iterdir()) == files
        assert "三种状态" in v.get(f"/jobs/{done}").text
        assert v.wait(queued) == "done"  # the queued job was not lost: it ran after the restart
        r = v.post(f"/jobs/{running}/rerun")
        rerun = int(str(r.url).rsplit("/", 1)[1])
        assert rerun not in (running, queued, done) and "重新运行" in r.text
        v.close()
    finally:
        srv.stop()
