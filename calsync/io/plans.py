"""Reading a plan file: the one place the plan's bytes come from disk.

The core parses text (`core.loader.parse_plan`) and never opens a file; every
command reads the plan through here, so an unreadable file is one clear problem
naming it, like any other problem in the plan.
"""

from __future__ import annotations

from pathlib import Path

from calsync.core.loader import PlanError, parse_plan
from calsync.core.model import Plan
from calsync.core.problems import Problem


def load_plan(path: Path | str) -> Plan:
    """Read and validate a plan file; raises PlanError (with the file's name) on any problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise PlanError(
            [Problem(str(path), 1, "", f"cannot read the plan: {err.strerror}")]
        ) from None
    return parse_plan(data, str(path))
