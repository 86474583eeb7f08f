"""The .ics target: a whole calendar file (`write`), the previous file it was written
over (`previous`), and the event text both it and CalDAV resources are made of (`text`)."""

from calsync.targets.ics.previous import (
    DamagedFile,
    NotOurFile,
    Previous,
    Stamp,
    parse_previous,
    read_previous,
    scan_previous,
)
from calsync.targets.ics.write import PRODID, Export, export, render, render_event

__all__ = [
    "PRODID",
    "DamagedFile",
    "Export",
    "NotOurFile",
    "Previous",
    "Stamp",
    "export",
    "parse_previous",
    "read_previous",
    "render",
    "render_event",
    "scan_previous",
]
