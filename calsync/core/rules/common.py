"""What every check shares: the view of a day, the one order of its sessions, the wording."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from calsync.core.model import Busy, Conflict, Occurrence, RuleSetting


def day_order(o: Occurrence) -> tuple[datetime, str]:
    """The one order of a day's sessions: by start, sessions that start together by key.

    `gap` compares neighbours in this order, so whatever judges a day (placement
    trying a start, the final check, a test) must see the sessions in it.
    """
    return (o.start_utc, o.key)


@dataclass(frozen=True)
class DayView:
    """What a day-scoped check sees: one day's sessions (in `day_order`) and busy time."""

    date: date
    sessions: Sequence[Occurrence]
    busy: Sequence[Busy]

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", tuple(sorted(self.sessions, key=day_order)))


def span(o: Occurrence) -> str:
    """`'Legs' (07:00-08:00)`: a session in a message."""
    return f"'{o.session.title}' ({o.start:%H:%M}-{o.end:%H:%M})"


def titled(o: Occurrence) -> str:
    """`'Legs' (Tue 07:00)`: a session of some day of the week in a message."""
    return f"'{o.session.title}' ({o.start:%a %H:%M})"


def conflict(
    setting: RuleSetting,
    day: date,
    message: str,
    *sessions: Occurrence,
    hint: str | None = None,
    busy: tuple[Busy, ...] = (),
) -> Conflict:
    """A conflict of `setting`'s rule at its configured level."""
    return Conflict(setting.id, setting.level, day, message, tuple(sessions), busy=busy, hint=hint)
