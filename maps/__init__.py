"""Folium maps and the printable report of a run (the third stage)."""
