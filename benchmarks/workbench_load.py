"""Load check of the workbench on localhost: concurrent page views of a finished run's
result page and map while a job runs.

Starts ``freight serve`` (SQLite, a local Dask cluster of one worker) in a temporary
folder, runs the default scenario once to have a finished run, submits a second job, and
while it runs sends ``--clients`` concurrent visitors, each viewing the result page
(``/jobs/<id>``) and the map (``/jobs/<id>/files/map.html``, 3.5 MB) ``--rounds`` times.
Reports latency percentiles per page and whether the job ran during the whole load.
Bounded: clients × rounds × 2 requests, each with a 120 s timeout; it stops the server
at the end whatever happens. Only 127.0.0.1 is contacted.

    python -m benchmarks.workbench_load [--clients 50] [--rounds 4]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from workbench.devserver import LocalServer, Visitor, add_users

PASSWORD = "load-check-1"


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def load(visitors: list[Visitor], job: int, *, rounds: int) -> dict[str, Any]:
    """The logged-in ``visitors`` at once, each viewing the result page and the map
    ``rounds`` times; latencies (s) per page, and errors."""
    clients = len(visitors)
    times: dict[str, list[float]] = {"result page": [], "map.html": []}
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def visit(v: Visitor) -> None:
        start.wait()
        for _ in range(rounds):
            for name, path in (
                ("result page", f"/jobs/{job}"),
                ("map.html", f"/jobs/{job}/files/map.html"),
            ):
                t0 = time.perf_counter()
                try:
                    r = v.get(path)
                    ok = r.status_code == 200 and len(r.content) > 1000
                except Exception as exc:  # a timeout counts as an error, not a latency
                    ok, r = False, exc  # type: ignore[assignment]
                dt = time.perf_counter() - t0
                with lock:
                    (times[name].append(dt) if ok else errors.append(f"{name}: {r}"))

    threads = [threading.Thread(target=visit, args=(v,)) for v in visitors]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for v in visitors:
        v.close()
    return {"times": times, "errors": errors, "wall_s": wall}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wb-load-") as tmp:
        data = Path(tmp)
        add_users(data, {"analyst": "analyst", "viewer": "viewer"}, PASSWORD)
        with LocalServer(data, workers=1) as srv:
            ana = Visitor(srv.url, "analyst", PASSWORD)
            sid = ana.scenario_id("liaocheng-2019")
            finished = ana.run(sid)
            assert ana.wait(finished) == "done"
            visitors = [Visitor(srv.url, "viewer", PASSWORD) for _ in range(args.clients)]
            # three jobs queued on one worker: one runs all through the load
            jobs = [ana.run(sid) for _ in range(3)]
            while ana.status(jobs[0])[0] != "running":
                time.sleep(0.05)
            out = load(visitors, finished, rounds=args.rounds)
            after = [ana.status(j)[0] for j in jobs]
            ends = [ana.wait(j) for j in jobs]
            ana.close()
    print(
        f"{args.clients} concurrent clients × {args.rounds} rounds × 2 pages, while jobs "
        f"{jobs} ran (when the load ended: {', '.join(after)}; then {', '.join(ends)}); "
        f"wall {out['wall_s']:.1f} s, errors {len(out['errors'])}"
    )
    print(
        f"{'page':<14}{'n':>6}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}"
        f"{'mean ms':>10}"
    )
    for name, ts in out["times"].items():
        cells = "".join(f"{1000 * percentile(ts, q):>10.0f}" for q in (0.5, 0.9, 0.99, 1.0))
        print(f"{name:<14}{len(ts):>6}{cells}{1000 * statistics.fmean(ts):>10.0f}")
    for e in out["errors"][:5]:
        print("error:", e)
    return 1 if out["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
