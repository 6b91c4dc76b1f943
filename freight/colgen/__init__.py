"""Column generation over chains: the exact core and its accelerators."""

from freight.colgen.options import SolveOptions

__all__ = ["SolveOptions"]
