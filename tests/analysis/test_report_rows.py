"""The report's results table shows the share near the school/work district, and the households
larger than any unit, only when measured."""

from __future__ import annotations

import math

import pandas as pd

from allocator.analysis.report.cells import RESULT_ROWS, shown_rows


def _replications(share: float, oversized: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {metric: 1.0 for metric, *_ in RESULT_ROWS}
            | {"anchor_near_share": share, "oversized": oversized}
        ]
    )


def test_rows_leave_out_the_district_share_when_nobody_named_a_district():
    """A run with no anchors has NaN shares: the row is left out, every other row is shown."""
    shown = [row[0] for row in shown_rows(_replications(math.nan))]
    assert "anchor_near_share" not in shown
    assert len(shown) == len(RESULT_ROWS) - 1


def test_rows_show_the_district_share_when_measured():
    """A run with anchors shows the share, in `RESULT_ROWS` order."""
    assert [row[0] for row in shown_rows(_replications(0.4))] == [m for m, *_ in RESULT_ROWS]


def test_rows_leave_out_households_larger_than_any_unit_when_there_were_none():
    """No household larger than every unit: neither its count nor those housed are shown."""
    shown = [row[0] for row in shown_rows(_replications(0.4, oversized=0.0))]
    assert "oversized" not in shown and "oversized_housed" not in shown
    assert len(shown) == len(RESULT_ROWS) - 2
