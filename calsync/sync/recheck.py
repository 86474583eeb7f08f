"""Did our earlier write land? The one judgement after a lost answer, a 409 or a 412.

A write can meet a precondition that fails because of our own earlier attempt
(its answer was lost and it was sent again, by the HTTP library or by the retry)
or because the calendar's owner changed the event between our read and our
write. The backend fetches the event as it is now and asks `landed`; it never
judges by itself, so Google and CalDAV cannot drift apart again.
"""

from __future__ import annotations

from calsync.sync.engine import Action, Change, Outcome, Remote


def landed(change: Change, now: Remote | None, live: bool) -> Outcome:
    """DONE when the event as the target holds it now is what `change` would have
    made; EDITED (kept, and reported to the owner) otherwise.

    `live`: whether a live event is at the change's place (not gone with 404/410,
    not cancelled); `now`: that event read as `list_managed` reads it, None when
    nothing is there or it is not one of this plan's events.

    - A delete landed when nothing live is left there: the event is gone (CalDAV
      removes it) or cancelled (Google keeps a deleted event as cancelled). The
      session no longer shows, either way, and nothing of the owner's is lost.
    - A create or an update landed only when the event is live, unedited and
      holds the plan's fingerprint. A cancelled event never counts, even with our
      fingerprint: calsync never writes one, so it is the owner's deletion, made
      between our read and our write; counting it done would hide that deletion
      and count a session that does not show. (CalDAV used to count it as done
      and Google did not; this is the one decision for both.)
    """
    if change.action is Action.DELETE:
        return Outcome.EDITED if live else Outcome.DONE
    if not live or now is None or now.cancelled or now.edited or change.content is None:
        return Outcome.EDITED
    return Outcome.DONE if now.stored == change.content.fingerprint else Outcome.EDITED
