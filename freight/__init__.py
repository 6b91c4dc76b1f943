"""The optimiser: bulk flows to modes and routes under the 400 km rule (the second stage)."""
