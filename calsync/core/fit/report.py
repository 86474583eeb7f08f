"""A fitted week's account in plain words (text lines) and for scripts (JSON).

Pure: the command module prints these; nothing here reads a file or the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from calsync.core.fit.problem import Problem
from calsync.core.fit.solve import Week
from calsync.core.fit.tradeoffs import Diagnosis, Explanation, Extra, Relaxation, Room
from calsync.core.model import WEEKDAYS


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _rules(counts: Sequence[tuple[str, int]]) -> str:
    return ", ".join(rule if n == 1 else f"{rule} x{n}" for rule, n in counts)


def _wanted(problem: Problem, session: str) -> str:
    want = problem.spec.want(session)
    if want is None:
        return ""
    return str(want.low) if want.low == want.high else f"{want.low} to {want.high}"


def summary_lines(week: Week) -> list[str]:
    problem = week.problem
    score = week.score
    counts = ", ".join(
        f"{name} {n}"
        + (f" (of {_wanted(problem, name)})" if "to" in _wanted(problem, name) else "")
        for name, n in week.counts
    )
    fewest = "the fewest possible" if score.warnings else "none"
    return [
        f"Best week (proven optimal): every want met, no error, "
        f"{plural(score.warnings, 'warning')} ({fewest}), {plural(score.sessions, 'session')}.",
        f"  {counts}",
    ]


def room_lines(room: Room) -> list[str]:
    lines = [
        f"{room.title} ({room.session}): {room.fit} fit with "
        f"{plural(room.warnings, 'warning')}{', the fewest possible' if room.warnings else ''}."
    ]
    for extra in room.extras:
        lines.append("  " + extra_words(extra))
    for option, count, warnings in sorted(room.relaxed, key=lambda r: (r[1], r[2])):
        lines.append(f"  {count} fit ({plural(warnings, 'warning')}) {option.words}")
    return lines


def extra_words(extra: Extra) -> str:
    nth = f"a {ordinal(extra.number)}"
    if extra.fits and not extra.warnings:
        return f"{nth} costs nothing more"
    if extra.fits:
        return f"{nth} would cost {plural(extra.warnings, 'more warning')} ({_rules(extra.rules)})"
    if extra.blocked_by:
        return f"{nth} cannot fit unless you give up one of: {', '.join(extra.blocked_by)}"
    return f"{nth} cannot fit: no single rule is in the way, the fit.when times leave no room"


def explanation_lines(explanation: Explanation) -> list[str]:
    lines: list[str] = []
    for room in explanation.rooms:
        lines += ["", *room_lines(room)]
    if explanation.causes:
        lines += ["", "No week with these wants has fewer warnings. What would remove them:"]
        for cause in explanation.causes:
            lines.append(
                f"  one {cause.title} ({cause.session}) fewer, {cause.low - 1} instead of "
                f"{cause.low}: {_rules(cause.removed)} gone"
            )
    return lines


def diagnosis_lines(diagnosis: Diagnosis) -> list[str]:
    lines = ["No week meets every want and every rule at level error."]
    broken = [
        f"{-n} {name} short of its min" if n < 0 else f"{n} {name} over its max (pinned)"
        for name, n in diagnosis.short
    ]
    broken += [f"{plural(n, 'conflict')} with {rule}" for rule, n in diagnosis.broken]
    lines.append(f"The closest week has {', '.join(broken)}.")
    if diagnosis.relaxations:
        wants = [
            f"{option.name} {want.low}"
            for option, _ in diagnosis.relaxations
            if option.kind == "want" and (want := diagnosis.closest.problem.spec.want(option.name))
        ]
        others = [option.label for option, _ in diagnosis.relaxations if option.kind != "want"]
        if wants and others:
            lines.append(f"What collides: {_and(wants)} a week, with {_and(others)}.")
        lines.append("Any one of these would let a week fit:")
        for option, _ in diagnosis.relaxations:
            lines.append(f"  - {option.words}")
    else:
        lines.append("No single change is enough; the closest week above shows what collides.")
    return lines


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# --- JSON --------------------------------------------------------------------------------


def week_json(week: Week) -> dict[str, list[str]]:
    return {
        day: [f"{e.session.name} {e.at:%H:%M}" for e in entries]
        for day, entries in zip(WEEKDAYS, week.entries, strict=True)
    }


def _relaxation_json(option: Relaxation) -> dict[str, Any]:
    return {"kind": option.kind, "name": option.name, "words": option.words}


def fit_json(week: Week, explanation: Explanation) -> dict[str, Any]:
    problem = week.problem
    return {
        "status": "best",
        "week": week_json(week),
        "score": {
            "warnings": week.score.warnings,
            "sessions": week.score.sessions,
            "preference": week.score.preference,
            "changes": week.score.changes,
        },
        "counts": {
            name: {"fit": n, "min": want.low, "max": want.high}
            for name, n in week.counts
            if (want := problem.spec.want(name)) is not None
        },
        "rooms": [
            {
                "session": room.session,
                "fit": room.fit,
                "warnings": room.warnings,
                "extras": [
                    {
                        "number": e.number,
                        "fits": e.fits,
                        "warnings": e.warnings,
                        "rules": dict(e.rules),
                        "blocked_by": list(e.blocked_by),
                    }
                    for e in room.extras
                ],
                "relaxed": [
                    {**_relaxation_json(option), "fit": count, "warnings": warnings}
                    for option, count, warnings in room.relaxed
                ],
            }
            for room in explanation.rooms
        ],
        "unavoidable": [
            {
                "session": c.session,
                "min": c.low,
                "warnings_with_one_fewer": c.warnings,
                "removes": dict(c.removed),
            }
            for c in explanation.causes
        ],
    }


def diagnosis_json(diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "status": "impossible",
        "closest": week_json(diagnosis.closest),
        "short": dict(diagnosis.short),
        "broken": dict(diagnosis.broken),
        "relaxations": [_relaxation_json(option) for option, _ in diagnosis.relaxations],
    }
