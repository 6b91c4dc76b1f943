"""Folium maps and the printable report of a run (the third stage).

``render_map`` draws a result folder on the scenario's network as one offline HTML file;
``render_report`` writes the printable before/after report. Both read only the result
folder's files (``docs/CONTRACTS.md``), so a run can be rendered later, elsewhere.
"""

from maps.modal_map import build_map, render_map
from maps.report import build_report, render_report

__all__ = ["build_map", "build_report", "render_map", "render_report"]
