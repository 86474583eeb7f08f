"""HiGHS against OR-Tools CP-SAT on calsync's own model of the rider's week.

    python bench/fit_solvers.py        # needs `pip install ortools` (not a calsync dependency)

Builds the rider-fit template's model once (calsync.core.fit.model) and solves each
step of the best-week order with HiGHS (calsync's solver) and with CP-SAT (one
worker, the only deterministic setting, and two), each to a proven optimum.
The same model, the same objectives: only the solver differs. This measurement
chose HiGHS (see the README, "Fitting a week").
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calsync.core.fit.highs import solve as highs_solve  # noqa: E402
from calsync.core.fit.model import INF, Model, build  # noqa: E402
from calsync.core.fit.problem import Problem, candidates  # noqa: E402
from calsync.core.fit.solve import costs  # noqa: E402
from calsync.core.model import Level  # noqa: E402
from calsync.io.plans import load_plan  # noqa: E402


def cpsat_solve(model: Model, objective, rows, workers: int):
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    xs = [
        m.NewIntVar(int(lo), int(hi), f"v{i}")
        for i, (lo, hi) in enumerate(zip(model.lower, model.upper, strict=True))
    ]
    for terms, low, high in [*model.rows, *rows]:
        expr = sum(int(c) * xs[v] for v, c in terms)
        if low != -INF:
            m.Add(expr >= int(-(-low // 1)))
        if high != INF:
            m.Add(expr <= int(high // 1))
    m.Minimize(sum(int(c) * xs[v] for v, c in objective))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = 120
    status = solver.Solve(m)
    if status == cp_model.INFEASIBLE:
        return None
    assert status == cp_model.OPTIMAL, solver.StatusName(status)
    return [solver.Value(x) for x in xs]


def lexicographic(solve, model: Model, steps) -> float:
    began = time.perf_counter()
    held = []
    for objective in steps:
        values = solve(model, objective, held)
        reached = sum(c * values[v] for v, c in objective)
        held.append((objective, -INF, reached + 0.5))
    return time.perf_counter() - began


def case(problem: Problem) -> tuple[Model, list]:
    found = candidates(problem)
    model = build(problem, found)
    wanted = [v for w in problem.spec.wants for v in model.counts[w.session]]
    warn = [p.var for p in model.potentials if p.level is Level.WARN]
    preference, tie = costs(problem, found)
    steps = [
        [(v, float(len(wanted) + 1)) for v in warn] + [(v, -1.0) for v in wanted],
        sorted(preference.items()),
        sorted(tie.items()),
    ]
    return model, steps


def main() -> None:
    plan = load_plan(ROOT / "templates" / "rider-fit.yaml")
    week = Problem(plan, plan.fit, date(2026, 12, 7))
    cases = {
        "the rider's week": week,
        "the same, overlap a warning (no interval packing)": week.with_rule("overlap", Level.WARN),
        "the same, gap and the Saturday pin given up": week.with_rule("gap", Level.OFF).without_pin(
            5
        ),
    }
    solvers = {
        "HiGHS 1 thread": highs_solve,
        "CP-SAT 1 worker": lambda m, o, r: cpsat_solve(m, o, r, 1),
        "CP-SAT 2 workers": lambda m, o, r: cpsat_solve(m, o, r, 2),
    }
    print("| model | solver | median of 5 (three proven optima) |")
    print("| --- | --- | --- |")
    for label, problem in cases.items():
        model, steps = case(problem)
        for name, solve in solvers.items():
            times = [lexicographic(solve, model, steps) for _ in range(5)]
            print(
                f"| {label}: {model.size} variables, {len(model.rows)} rows | {name} "
                f"| {statistics.median(times) * 1000:.0f} ms |"
            )


if __name__ == "__main__":
    main()
