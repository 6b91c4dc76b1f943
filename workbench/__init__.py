"""The bureau's workbench: ``freight serve``, a web application for the intranet.

Scenarios (the shipped ones, uploaded folders, and scenarios derived from another by a
form, saved as a small ``extends`` TOML), jobs that run :func:`freight.run.run` on a Dask
cluster with their progress shown live, results (the three states, map, report, flows,
bottlenecks, downloads), comparisons of two runs, and accounts with roles -- all kept in
a real database (SQLite by default, PostgreSQL by URL) that is the source of truth.

Layout, one module per concern: :mod:`workbench.db` (tables, engine, migrations),
:mod:`workbench.auth` (passwords, sessions, CSRF), :mod:`workbench.scenarios` (shipped,
uploaded, derived), :mod:`workbench.jobs` (the queue on Dask), :mod:`workbench.results`
(reading a result folder for the pages; comparing two), :mod:`workbench.app` (the pages),
:mod:`workbench.cli` (``freight serve``, ``freight users``).

It may import ``freight``, ``networks`` and ``maps``; nothing imports it (``freight``'s
command line reaches it only inside the ``serve`` and ``users`` commands).
"""
