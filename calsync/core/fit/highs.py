"""Running a `Model` with HiGHS (through highspy): one proven optimum per call.

HiGHS is deterministic by design; it runs here on one thread with a fixed seed,
a zero optimality gap (every answer is proven optimal, not merely good), and a
time limit so no run waits without bound.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import cache
from types import ModuleType

from calsync.core.fit.model import Model
from calsync.errors import Failure

TIME_LIMIT = 60.0  # seconds; the rider's week takes milliseconds


@cache
def _highspy() -> ModuleType:
    """highspy, imported once; its banner (printed by the first solver made) is silenced."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            import highspy

            highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's constructor has no hints; the first instance prints the banner
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highspy


def solve(
    model: Model,
    objective: Sequence[tuple[int, float]],
    rows: Sequence[tuple[list[tuple[int, float]], float, float]] = (),
) -> list[int] | None:
    """The values of an optimal 0/1 solution minimising `objective`, or None if there is none.

    No start solution is handed to HiGHS: with one (`setSolution`), HiGHS 1.16 was
    seen to return that start as optimal under a new objective it did not minimise
    (found by the oracle test), so every solve starts from nothing.
    """
    all_rows = [*model.rows, *rows]
    if model.size == 0:  # nothing to choose: the rows are constants
        return [] if all(low <= 0 <= high for _, low, high in all_rows) else None
    highspy = _highspy()
    import numpy as np

    starts, index, value = [0], [], []
    for terms, _, _ in all_rows:
        merged: dict[int, float] = {}
        for var, coef in terms:
            merged[var] = merged.get(var, 0.0) + coef
        for var in sorted(merged):
            index.append(var)
            value.append(merged[var])
        starts.append(len(index))
    cost = np.zeros(model.size)
    for var, coef in objective:
        cost[var] += coef
    lp = highspy.HighsLp()
    lp.num_col_ = model.size
    lp.num_row_ = len(all_rows)
    lp.col_cost_ = cost
    lp.col_lower_ = np.array(model.lower, dtype=float)
    lp.col_upper_ = np.array(model.upper, dtype=float)
    lp.row_lower_ = np.array([r[1] for r in all_rows], dtype=float)
    lp.row_upper_ = np.array([r[2] for r in all_rows], dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * model.size
    h = highspy.Highs()
    for option, setting in (
        ("output_flag", False),
        ("threads", 1),
        ("random_seed", 0),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 1e-6),
        ("time_limit", TIME_LIMIT),
    ):
        h.setOptionValue(option, setting)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status != highspy.HighsModelStatus.kOptimal:
        raise Failure(
            f"the solver stopped without a proven optimum ({h.modelStatusToString(status)})"
        )
    return [round(v) for v in h.getSolution().col_value]
