"""The former name of :mod:`freight.expanded_graph`.

Kept only while branches written against the old name merge (the sweep of issue 17, the
workbench of issue 18); new code imports :mod:`freight.expanded_graph`. Remove once no
module imports this one.
"""

from freight.expanded_graph import (
    EDGE,
    MODE_INDEX,
    SINK,
    SOURCE,
    TRANSFER,
    Column,
    CostClass,
    MultimodalGraph,
    Row,
    commodity_of,
    is_compliant,
    lp_key,
)

__all__ = [
    "EDGE",
    "MODE_INDEX",
    "SINK",
    "SOURCE",
    "TRANSFER",
    "Column",
    "CostClass",
    "MultimodalGraph",
    "Row",
    "commodity_of",
    "is_compliant",
    "lp_key",
]
