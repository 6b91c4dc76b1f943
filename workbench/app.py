"""The pages of the workbench (FastAPI, server-rendered Jinja2; no build step, no CDN).

Every page is HTML rendered on the server with autoescaping on; the one script
(``static/workbench.js``, vendored here) only refreshes a running job's progress block.
Every POST carries the session's CSRF token. A result's ``map.html`` and ``report.html``
(self-contained offline pages written by ``maps``) are served from the result folder
with a Content-Security-Policy that sandboxes them (opaque origin, scripts allowed, no
network) and shown in a sandboxed iframe; the workbench's own pages allow nothing but
their own origin.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
import tempfile
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession
from starlette.concurrency import run_in_threadpool

from workbench import auth
from workbench import results as res
from workbench import scenarios as sc
from workbench.db import (
    LIVE_STATES,
    ROLES,
    Audit,
    Job,
    Scenario,
    User,
    audit,
    default_url,
    make_engine,
    migrate,
    session_factory,
)
from workbench.jobs import EXPECTED_STEPS, JobQueue

log = logging.getLogger(__name__)
DEFAULT_PATH = str(sc.REPO_ROOT / "data" / "liaocheng" / "liaocheng-2019.toml")

HERE = Path(__file__).parent
#: The workbench's own pages: nothing from elsewhere, no inline script or style.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
#: A result's map and report: self-contained pages whose inline scripts draw the map.
#: ``sandbox allow-scripts`` gives them an opaque origin even when opened on their own, so
#: they can read no cookie and reach no page of the workbench; nothing is fetched.
RESULT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'none'; sandbox allow-scripts allow-popups"
)
#: Files of a result folder the workbench serves, and how.
RESULT_FILES = {
    "map.html": "text/html; charset=utf-8",
    "report.html": "text/html; charset=utf-8",
    "summary.json": "application/json",
    "flows.csv": "text/csv; charset=utf-8",
    "bottlenecks.csv": "text/csv; charset=utf-8",
    "terminals.csv": "text/csv; charset=utf-8",
    "links.geojson": "application/geo+json",
    "results.gpkg": "application/geopackage+sqlite3",
    "flows.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "terminals.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "bottlenecks.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Settings:
    """What ``freight serve`` configures: database URL (None: SQLite in ``data_dir``),
    data directory (scenarios, result folders), Dask scheduler address (None: a local
    cluster of ``workers`` processes)."""

    data_dir: Path
    db_url: str | None = None
    scheduler: str | None = None
    workers: int | None = None

    @property
    def url(self) -> str:
        return self.db_url or default_url(self.data_dir)


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


# --- formatting for the templates -------------------------------------------------------------


def fmt(x: Any, digits: int = 0, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, str):
        return x
    xf = float(x)
    if math.isinf(xf):
        return "∞"
    if abs(xf) < 0.5 * 10**-digits:
        xf = 0.0
    return f"{xf:+,.{digits}f}" if sign and xf != 0 else f"{xf:,.{digits}f}"


def fmt_time(t: dt.datetime | None) -> str:
    if t is None:
        return "—"
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")


STATUS_LABELS = {
    "queued": "排队 queued",
    "running": "运行中 running",
    "cancelling": "取消中 cancelling",
    "done": "完成 done",
    "failed": "失败 failed",
    "cancelled": "已取消 cancelled",
    "interrupted": "中断 interrupted",
}
KIND_LABELS = {"shipped": "内置 shipped", "uploaded": "上传 uploaded", "derived": "派生 derived"}


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every data string is escaped where it lands
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = fmt
    env.filters["when"] = fmt_time
    env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        KIND_LABELS=KIND_LABELS,
        STATE_LABELS=res.STATE_LABELS,
        ROLES=ROLES,
        default_path=DEFAULT_PATH,
    )
    return env


# --- the application --------------------------------------------------------------------------


def create_app(settings: Settings) -> FastAPI:  # noqa: C901, PLR0915 -- the routes are closures over one app's settings and database; routers per page are the way out
    """The workbench for ``settings``: migrates the database, registers the shipped
    scenarios, and (in the lifespan) opens the Dask client and recovers the jobs."""
    data_dir = Path(settings.data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.url)
    migrate(engine)
    sessions = session_factory(engine)
    register_shipped(sessions)
    queue = JobQueue(sessions, data_dir, address=settings.scheduler, workers=settings.workers)
    env = _templates()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(queue.start)
        try:
            yield
        finally:
            await run_in_threadpool(queue.close)
            engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = sessions
    app.state.queue = queue
    app.state.data_dir = data_dir
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(Redirect)
    async def _redirect(_request: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    @app.middleware("http")
    async def _headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # --- helpers ----------------------------------------------------------------------------------

    @contextmanager
    def database() -> Iterator[DbSession]:
        with sessions() as db:
            yield db

    def who(request: Request, db: DbSession, role: str = "viewer") -> tuple[User, str]:
        """The logged-in user (and the session's CSRF token); a redirect to the login page
        when there is none, 403 when the role may not."""
        row = auth.find_session(db, request.cookies.get(auth.SESSION_COOKIE))
        if row is None:
            raise Redirect(f"/login?next={request.url.path}")
        if not auth.allowed(row.user.role, role):
            raise HTTPException(403, f"需要 {role} 权限 / this needs the {role} role")
        return row.user, row.csrf_token

    def check(csrf_expected: str, csrf: str) -> None:
        if not auth.check_csrf(csrf_expected, csrf):
            raise HTTPException(
                403, "CSRF 校验失败，请刷新页面 / CSRF check failed: reload the page and try again"
            )

    def page(
        name: str, request: Request, user: User | None, csrf: str, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        html = env.get_template(name).render(
            request=request, user=user, csrf=csrf, allowed=auth.allowed, **ctx
        )
        return HTMLResponse(html, status_code=status)

    def get_job(db: DbSession, job_id: int) -> Job:
        job = db.get(Job, job_id)
        if job is None:
            raise HTTPException(404, f"没有作业 {job_id} / no job {job_id}")
        return job

    def get_scenario(db: DbSession, sid: int) -> Scenario:
        s = db.get(Scenario, sid)
        if s is None:
            raise HTTPException(404, f"没有场景 {sid} / no scenario {sid}")
        return s

    def result_dir(job: Job) -> Path:
        if job.status != "done" or not job.result_dir:
            raise HTTPException(404, "作业尚无结果 / this job has no result")
        return Path(job.result_dir)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        html = env.get_template("error.html").render(
            request=request,
            user=None,
            csrf="",
            allowed=auth.allowed,
            status=exc.status_code,
            message=str(exc.detail),
        )
        return HTMLResponse(html, status_code=exc.status_code)

    # --- login ------------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002
        token = auth.new_token()
        resp = page("login.html", request, None, token, next=_safe_next(next), error="")
        _set_cookie(request, resp, auth.LOGIN_CSRF_COOKIE, token, max_age=3600)
        return resp

    @app.post("/login")
    def login(  # noqa: A002
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf: str = Form(""),
        next: str = Form("/"),
    ) -> Response:
        check(request.cookies.get(auth.LOGIN_CSRF_COOKIE, ""), csrf)
        with database() as db, db.begin():
            user = auth.authenticate(db, username, password)
            if user is None:
                audit(db, username.strip().lower()[:64], "login.failed")
            else:
                token, _ = auth.open_session(db, user)
                audit(db, user.username, "login")
        if user is None:
            token2 = auth.new_token()
            resp = page(
                "login.html",
                request,
                None,
                token2,
                status=401,
                next=_safe_next(next),
                error="用户名或密码错误 / wrong user name or password",
            )
            _set_cookie(request, resp, auth.LOGIN_CSRF_COOKIE, token2, max_age=3600)
            return resp
        done = RedirectResponse(_safe_next(next), status_code=303)
        _set_cookie(request, done, auth.SESSION_COOKIE, token, max_age=auth.SESSION_HOURS * 3600)
        done.delete_cookie(auth.LOGIN_CSRF_COOKIE)
        return done

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        with database() as db, db.begin():
            user, expected = who(request, db)
            check(expected, csrf)
            auth.close_session(db, request.cookies.get(auth.SESSION_COOKIE))
            audit(db, user.username, "logout")
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(auth.SESSION_COOKIE)
        return resp

    # --- home, scenarios ------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        with database() as db:
            user, csrf = who(request, db)
            return page("home.html", request, user, csrf, **home_lists(db))

    @app.get("/scenarios/{sid}", response_class=HTMLResponse)
    def scenario_page(request: Request, sid: int) -> Response:
        with database() as db:
            user, csrf = who(request, db)
            s = get_scenario(db, sid)
            jobs = list(
                db.scalars(select(Job).where(Job.scenario_id == sid).order_by(Job.id.desc()))
            )
            text = _read_text(Path(s.path))
            return page("scenario.html", request, user, csrf, s=s, jobs=jobs, toml=text)

    @app.get("/scenarios/{sid}/scenario.toml")
    def scenario_toml(request: Request, sid: int) -> Response:
        with database() as db:
            who(request, db)
            s = get_scenario(db, sid)
            name = f"{s.slug}.toml"
            return Response(
                _read_text(Path(s.path)),
                media_type="application/toml; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )

    @app.post("/scenarios/{sid}/run")
    def run_scenario(request: Request, sid: int, csrf: str = Form("")) -> Response:
        with database() as db, db.begin():
            user, expected = who(request, db, "analyst")
            check(expected, csrf)
            s = get_scenario(db, sid)
            job = Job(scenario_id=s.id, status="queued", created_by=user.username)
            db.add(job)
            db.flush()
            audit(db, user.username, "job.submit", f"job {job.id}", f"scenario {s.slug}")
            job_id = job.id
        queue.submit(job_id)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.get("/scenarios/{sid}/derive", response_class=HTMLResponse)
    def derive_form(request: Request, sid: int) -> Response:
        with database() as db:
            user, csrf = who(request, db, "analyst")
            s = get_scenario(db, sid)
            return page(
                "derive.html",
                request,
                user,
                csrf,
                s=s,
                **_derive_options(s),
                error="",
                details=[],
                form={},
            )

    @app.post("/scenarios/{sid}/derive")
    async def derive(request: Request, sid: int) -> Response:
        form = await request.form()
        return await run_in_threadpool(_derive, request, sid, form)

    def _derive(request: Request, sid: int, form: Any) -> Response:
        with database() as db:
            user, expected = who(request, db, "analyst")
            check(expected, str(form.get("csrf", "")))
            base = get_scenario(db, sid)
            taken = set(db.scalars(select(Scenario.slug)))
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        try:
            d = _derivation(form, base)
            offered = {p["key"] for p in sc.planned_options(Path(base.path))}
            if not set(d.planned) <= offered:
                raise ValueError("规划线路 planned line: 不在可选范围 / not one of those offered")
        except ValueError as exc:
            return _derive_error(request, user, expected, base, str(exc), [], values)
        slug = sc.slugify(d.name, taken)
        root = sc.make_root(data_dir, slug)
        try:
            path, over = sc.derive(Path(base.path), base.title, d, root)
            warnings = _check_on_cluster(str(path), [str(data_dir / "scenarios")])
            with database() as db, db.begin():
                row = Scenario(
                    slug=slug,
                    title=d.title,
                    kind="derived",
                    path=str(path),
                    folder=str(root),
                    parent_id=base.id,
                    overrides=over,
                    warnings=warnings,
                    created_by=user.username,
                )
                db.add(row)
                db.flush()
                audit(
                    db,
                    user.username,
                    "scenario.derive",
                    f"scenario {slug}",
                    json.dumps(over, ensure_ascii=False),
                )
                new_id = row.id
        except sc.ScenarioRefused as exc:
            sc.remove_root(root)
            return _derive_error(request, user, expected, base, str(exc), exc.details, values)
        except BaseException:
            sc.remove_root(root)
            raise
        return RedirectResponse(f"/scenarios/{new_id}", status_code=303)

    def _derive_error(
        request: Request,
        user: User,
        csrf: str,
        base: Scenario,
        message: str,
        details: list[str],
        values: dict[str, str],
    ) -> Response:
        return page(
            "derive.html",
            request,
            user,
            csrf,
            status=400,
            s=base,
            **_derive_options(base),
            error=message,
            details=details,
            form=values,
        )

    def _check_on_cluster(path: str, roots: list[str]) -> list[str]:
        """Validate a scenario on a worker (it builds the network); a ScenarioRefused
        raised there comes back as itself."""
        fut = queue.client.submit(
            sc.check_scenario, path, [*roots, str(sc.SHIPPED_DATA)], pure=False
        )
        try:
            return list(fut.result())
        finally:
            fut.release()

    @app.post("/scenarios/upload")
    async def upload(
        request: Request,
        file: Annotated[UploadFile, File()],
        title: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        tmp = Path(tempfile.mkstemp(prefix="upload-", suffix=".zip", dir=data_dir)[1])
        try:
            size = 0
            with tmp.open("wb") as out:
                while chunk := await file.read(2**16):
                    size += len(chunk)
                    if size > sc.MAX_UPLOAD_BYTES:
                        break
                    out.write(chunk)
            return await run_in_threadpool(
                _accept_upload, request, tmp, file.filename or "", title, csrf, size
            )
        finally:
            tmp.unlink(missing_ok=True)

    def _accept_upload(
        request: Request, tmp: Path, filename: str, title: str, csrf: str, size: int
    ) -> Response:
        with database() as db:
            user, expected = who(request, db, "analyst")
            check(expected, csrf)
            taken = set(db.scalars(select(Scenario.slug)))
        slug = sc.slugify(Path(filename).stem or "upload", taken)
        root = sc.make_root(data_dir, slug)
        try:
            if size > sc.MAX_UPLOAD_BYTES:
                raise sc.ScenarioRefused(
                    f"压缩包超过 {sc.MAX_UPLOAD_BYTES // 2**20} MB / the zip "
                    f"is larger than {sc.MAX_UPLOAD_BYTES // 2**20} MB"
                )
            toml = sc.unpack_upload(tmp, root / "upload")
            warnings = _check_on_cluster(str(toml), [str(toml.parent), str(root / "data")])
            from freight.scenario import load_scenario

            loaded = load_scenario(toml)
            with database() as db, db.begin():
                row = Scenario(
                    slug=slug,
                    title=title.strip() or loaded.title,
                    kind="uploaded",
                    path=str(toml),
                    folder=str(root),
                    warnings=warnings,
                    overrides={},
                    created_by=user.username,
                )
                db.add(row)
                db.flush()
                audit(db, user.username, "scenario.upload", f"scenario {slug}", filename)
                new_id = row.id
        except sc.ScenarioRefused as exc:
            sc.remove_root(root)
            with database() as db:
                return page(
                    "home.html",
                    request,
                    user,
                    expected,
                    status=400,
                    **home_lists(db),
                    upload_error=str(exc),
                    upload_details=exc.details,
                )
        except BaseException:
            sc.remove_root(root)
            raise
        return RedirectResponse(f"/scenarios/{new_id}", status_code=303)

    # --- jobs -------------------------------------------------------------------------------------

    @app.get("/jobs", response_class=HTMLResponse)
    def jobs_page(request: Request) -> Response:
        with database() as db:
            user, csrf = who(request, db)
            jobs = list(db.scalars(select(Job).order_by(Job.id.desc()).limit(500)))
            return page("jobs.html", request, user, csrf, jobs=jobs)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: int) -> Response:
        with database() as db:
            user, csrf = who(request, db)
            job = get_job(db, job_id)
            ctx: dict[str, Any] = {"job": job, "expected": EXPECTED_STEPS}
            if job.status == "done" and job.summary:
                ctx["figures"] = res.figure_rows(job.summary)
                ctx["comparisons"] = res.comparison_items(job.summary)
                ctx["bottlenecks"] = res.read_csv(Path(job.result_dir or "") / "bottlenecks.csv")
                ctx["others"] = list(
                    db.scalars(
                        select(Job)
                        .where(Job.status == "done", Job.id != job_id)
                        .order_by(Job.id.desc())
                        .limit(50)
                    )
                )
            return page("job.html", request, user, csrf, **ctx)

    @app.get("/jobs/{job_id}/progress", response_class=HTMLResponse)
    def job_progress(request: Request, job_id: int) -> Response:
        with database() as db:
            user, csrf = who(request, db)
            job = get_job(db, job_id)
            return page("_progress.html", request, user, csrf, job=job, expected=EXPECTED_STEPS)

    @app.post("/jobs/{job_id}/cancel")
    def job_cancel(request: Request, job_id: int, csrf: str = Form("")) -> Response:
        with database() as db:
            user, expected = who(request, db, "analyst")
            check(expected, csrf)
            get_job(db, job_id)
        queue.cancel(job_id, user.username)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.post("/jobs/{job_id}/rerun")
    def job_rerun(request: Request, job_id: int, csrf: str = Form("")) -> Response:
        with database() as db, db.begin():
            user, expected = who(request, db, "analyst")
            check(expected, csrf)
            old = get_job(db, job_id)
            if old.status in LIVE_STATES:
                raise HTTPException(409, "作业仍在运行 / the job is still live")
            job = Job(
                scenario_id=old.scenario_id,
                status="queued",
                created_by=user.username,
                rerun_of=old.id,
            )
            db.add(job)
            db.flush()
            audit(db, user.username, "job.rerun", f"job {job.id}", f"re-run of job {old.id}")
            new_id = job.id
        queue.submit(new_id)
        return RedirectResponse(f"/jobs/{new_id}", status_code=303)

    @app.get("/jobs/{job_id}/flows", response_class=HTMLResponse)
    def job_flows(
        request: Request,
        job_id: int,
        q: str = "",
        sort: str = "flow_id",
        desc: int = 0,
        page_no: int = 1,
    ) -> Response:
        with database() as db:
            user, csrf = who(request, db)
            job = get_job(db, job_id)
            folder = result_dir(job)
            rows, n, pages = res.flows_view(
                res.read_csv(folder / "flows.csv"), q=q, sort=sort, desc=bool(desc), page=page_no
            )
            return page(
                "flows.html",
                request,
                user,
                csrf,
                job=job,
                rows=rows,
                n=n,
                pages=pages,
                q=q,
                sort=sort,
                desc=bool(desc),
                page_no=page_no,
                columns=res.FLOW_COLUMNS,
            )

    @app.get("/jobs/{job_id}/files/{name}")
    def job_file(request: Request, job_id: int, name: str) -> Response:
        if name not in RESULT_FILES:
            raise HTTPException(404, f"没有文件 {name} / no such file")
        with database() as db:
            who(request, db)
            job = get_job(db, job_id)
            path = result_dir(job) / name
        if not path.is_file():
            raise HTTPException(404, f"结果中没有 {name} / the result has no {name}")
        headers = {"Cache-Control": "private, max-age=300"}
        if name.endswith(".html"):
            headers["Content-Security-Policy"] = RESULT_CSP
            return FileResponse(path, media_type=RESULT_FILES[name], headers=headers)
        return FileResponse(
            path, media_type=RESULT_FILES[name], headers=headers, filename=f"job{job_id}-{name}"
        )

    @app.get("/jobs/{job_id}/result.zip")
    def job_zip(request: Request, job_id: int) -> Response:
        with database() as db:
            who(request, db)
            job = get_job(db, job_id)
            folder = result_dir(job)
            slug = job.scenario.slug
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(folder.iterdir()):
                if f.is_file() and not f.is_symlink():
                    zf.write(f, f"{slug}-job{job_id}/{f.name}")
        name = f"{slug}-job{job_id}.zip"
        return Response(
            buf.getvalue(),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # --- compare ----------------------------------------------------------------------------------

    @app.get("/compare", response_class=HTMLResponse)
    def compare(request: Request, a: int, b: int) -> Response:
        with database() as db:
            user, csrf = who(request, db)
            ja, jb = get_job(db, a), get_job(db, b)
            fa, fb = result_dir(ja), result_dir(jb)
            sa, sb = ja.summary or {}, jb.summary or {}
            changed = res.changed_flows(
                res.read_csv(fa / "flows.csv"), res.read_csv(fb / "flows.csv")
            )
            return page(
                "compare.html",
                request,
                user,
                csrf,
                ja=ja,
                jb=jb,
                figures=res.figures_side_by_side(sa, sb),
                changed=changed,
                params=res.parameter_differences(sa, sb),
            )

    @app.get("/compare/map")
    def compare_map(request: Request, a: int, b: int) -> Response:
        with database() as db:
            who(request, db)
            ja, jb = get_job(db, a), get_job(db, b)
            fa, fb = result_dir(ja), result_dir(jb)
            ta, tb = f"#{a} {ja.scenario.slug}", f"#{b} {jb.scenario.slug}"
        out = data_dir / "compare" / f"{a}-{b}.html"
        if not out.exists():  # result folders never change once written: cache the map
            from maps.compare_map import render_compare_map

            tmp = out.with_suffix(".tmp.html")
            render_compare_map(fa, fb, tmp, title_a=ta, title_b=tb)
            tmp.replace(out)
        return FileResponse(
            out,
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": RESULT_CSP},
        )

    # --- admin ------------------------------------------------------------------------------------

    @app.get("/admin/users", response_class=HTMLResponse)
    def users_page(request: Request) -> Response:
        with database() as db:
            user, csrf = who(request, db, "admin")
            users = list(db.scalars(select(User).order_by(User.username)))
            return page("users.html", request, user, csrf, users=users, error="")

    @app.post("/admin/users")
    def users_add(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        role: str = Form("viewer"),
        csrf: str = Form(""),
    ) -> Response:
        with database() as db, db.begin():
            user, expected = who(request, db, "admin")
            check(expected, csrf)
            try:
                new = auth.add_user(db, username, password, role, by=user.username)
            except auth.AuthError as exc:
                db.rollback()
                users = list(db.scalars(select(User).order_by(User.username)))
                return page(
                    "users.html", request, user, expected, status=400, users=users, error=str(exc)
                )
            audit(db, user.username, "user.add", f"user {new.username}", f"role {role}")
        return RedirectResponse("/admin/users", status_code=303)

    @app.post("/admin/users/{uid}")
    def users_change(
        request: Request,
        uid: int,
        role: str = Form(""),
        active: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        with database() as db, db.begin():
            user, expected = who(request, db, "admin")
            check(expected, csrf)
            target = db.get(User, uid)
            if target is None:
                raise HTTPException(404, "没有此用户 / no such user")
            if target.id == user.id:
                raise HTTPException(400, "不能修改自己的角色 / you cannot change your own role")
            target.role = auth.check_role(role) if role else target.role
            target.active = active == "1"
            audit(
                db,
                user.username,
                "user.change",
                f"user {target.username}",
                f"role {target.role}, active {target.active}",
            )
        return RedirectResponse("/admin/users", status_code=303)

    @app.get("/admin/audit", response_class=HTMLResponse)
    def audit_page(request: Request) -> Response:
        with database() as db:
            user, csrf = who(request, db, "admin")
            rows = list(db.scalars(select(Audit).order_by(Audit.id.desc()).limit(500)))
            return page("audit.html", request, user, csrf, rows=rows)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        with database() as db:
            n = db.scalar(select(func.count(Job.id)))
        return {"ok": True, "jobs": n}

    return app


# --- small helpers ----------------------------------------------------------------------------


def home_lists(db: DbSession) -> dict[str, Any]:
    """What the home page lists: the scenarios (the embedded default first, the other
    shipped ones in order, then uploaded and derived ones, newest first), recent jobs,
    and the finished runs one may compare."""
    scenarios = sorted(
        db.scalars(select(Scenario)),
        key=lambda s: (s.path != DEFAULT_PATH, s.kind != "shipped",
                       s.id if s.kind == "shipped" else -s.id),
    )  # fmt: skip
    jobs = list(db.scalars(select(Job).order_by(Job.id.desc()).limit(15)))
    done_q = select(Job).where(Job.status == "done").order_by(Job.id.desc()).limit(50)
    return {"scenarios": scenarios, "jobs": jobs, "done": list(db.scalars(done_q))}


def _safe_next(url: str) -> str:
    """Only a local path may follow a login (no open redirect)."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"


def _set_cookie(request: Request, resp: Response, name: str, value: str, *, max_age: int) -> None:
    resp.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def register_shipped(sessions: Any) -> None:
    """Add each shipped scenario of the checkout the database does not have yet."""
    with sessions() as db, db.begin():
        known = set(db.scalars(select(Scenario.path)))
        taken = set(db.scalars(select(Scenario.slug)))
        for s in sc.shipped_scenarios():
            if str(s.path) in known:
                continue
            slug = sc.slugify(s.slug, taken)
            taken.add(slug)
            db.add(
                Scenario(
                    slug=slug,
                    title=s.title,
                    kind="shipped",
                    path=str(s.path),
                    overrides={},
                    warnings=[],
                    created_by="(shipped)",
                )
            )


def _derive_options(s: Scenario) -> dict[str, Any]:
    from freight.scenario import load_scenario

    base = load_scenario(s.path)
    return {
        "base": base,
        "commodity_ids": sorted(base.commodity_table),
        "lines": sc.line_options(Path(s.path)),
        "terminals": sc.terminal_options(Path(s.path)),
        "planned": sc.planned_options(Path(s.path)),
    }


def _float(
    form: Any, key: str, label: str, *, lo: float = 0.0, hi: float = math.inf
) -> float | None:
    text = str(form.get(key, "") or "").strip()
    if not text:
        return None
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"{label}: 不是数字 / not a number: {text!r}") from None
    if not (lo <= x <= hi) or not math.isfinite(x):
        raise ValueError(f"{label}: 须在 {lo:g}–{hi:g} 之间 / must lie in {lo:g}–{hi:g}: {text}")
    return x


def _derivation(form: Any, base: Scenario) -> sc.Derivation:
    """The derive form as a :class:`~workbench.scenarios.Derivation`; ValueError names the
    field at fault."""
    name = str(form.get("name", "")).strip()
    title = str(form.get("title", "")).strip() or name
    if not name:
        raise ValueError("名称 name: 必填 / required")
    enforcement = str(form.get("enforcement", "")).strip() or None
    if enforcement not in (None, "hard", "soft", "off"):
        raise ValueError(f"执行方式 enforcement: {enforcement!r} 不是 hard/soft/off")
    commodities: tuple[str, ...] | None = None
    if form.get("set_commodities"):
        commodities = tuple(str(c) for c in form.getlist("commodities"))
        if not commodities:
            raise ValueError("货类 commodities: 至少选一个 / pick at least one")
    line_id = str(form.get("line_id", "")).strip() or None
    terminal_id = str(form.get("terminal_id", "")).strip() or None
    d = sc.Derivation(
        name=name,
        title=title,
        threshold_km=_float(form, "threshold_km", "门槛 threshold_km", lo=0.0, hi=1e7),
        enforcement=enforcement,
        penalty_cny_per_t=_float(form, "penalty_cny_per_t", "罚金 penalty", hi=1e6),
        commodities=commodities,
        carbon_price_cny_per_t=_float(form, "carbon_price", "碳价 carbon price", hi=1e5),
        road_cny_per_tkm=_float(form, "road_cny_per_tkm", "公路运价 road rate", hi=100.0),
        line_id=line_id,
        line_capacity_t=_float(form, "line_capacity_t", "线路能力 line capacity", hi=1e10),
        terminal_id=terminal_id,
        terminal_capacity_t=_float(
            form, "terminal_capacity_t", "场站能力 terminal capacity", hi=1e10
        ),
        planned=tuple(str(p) for p in form.getlist("planned")),
    )
    if (d.line_id is None) != (d.line_capacity_t is None):
        raise ValueError(
            "线路能力 line capacity: 选线路并填能力 / pick a line and give its capacity"
        )
    if (d.terminal_id is None) != (d.terminal_capacity_t is None):
        raise ValueError(
            "场站能力 terminal capacity: 选场站并填能力 / pick a terminal and give its capacity"
        )
    return d
