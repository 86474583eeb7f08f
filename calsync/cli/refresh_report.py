"""What a refresh run says: its lines, its JSON, and the one-line summary appended to
the log file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from calsync.cli.refresh_run import Run
from calsync.cli.report import FORMAT


def run_lines(run: Run) -> list[str]:
    """One line per target, each write that failed, then every conflict once."""
    from calsync.cli.report import conflict_lines

    lines: list[str] = []
    for target in run.targets:
        lines.append(target.line)
        lines += [
            f"  failed  {f['action']} {f['key']}: {' '.join(str(f['error']).split())}"
            for f in target.failures
        ]
    lines += conflict_lines(run.conflicts)
    for target in run.targets:
        if target.conflicts:
            lines.append(f"{target.name}:")
            lines += conflict_lines(target.conflicts)
    return lines


def run_json(run: Run) -> dict[str, Any]:
    from calsync.cli.report import conflict_json

    return {
        "calsync": FORMAT,
        "status": run.status,
        "plan": str(run.plan),
        "from": run.start.isoformat(),
        "to": (run.end - timedelta(days=1)).isoformat(),
        "targets": [
            {
                "name": t.name,
                "type": t.kind,
                "status": "ok" if t.ok else "failed",
                "counts": t.counts,
                "error": t.error,
                "failures": list(t.failures),
                "warnings": list(t.warnings),
            }
            for t in run.targets
        ],
        "conflicts": [{**conflict_json(c), "target": None} for c in run.conflicts]
        + [{**conflict_json(c), "target": t.name} for t in run.targets for c in t.conflicts],
    }


def log_summary(run: Run) -> str:
    conflicts = len(run.conflicts) + sum(len(t.conflicts) for t in run.targets)
    window = f"{run.start.isoformat()}..{(run.end - timedelta(days=1)).isoformat()}"
    parts = [f"window {window}", *(t.line for t in run.targets)]
    return "; ".join([*parts, f"{conflicts} conflict{'s' * (conflicts != 1)}"])


def append_log(log: Path | None, status: int, summary: str) -> None:
    """One timestamped line per run; a log that cannot be written is said on stderr."""
    if log is None:
        return
    from calsync.io.clock import system_clock

    # When the run happened, in the machine's zone: a log is about real time, not --now.
    stamp = system_clock().astimezone().isoformat(timespec="seconds")
    line = f"{stamp} exit {status}: {' '.join(summary.split())}\n"
    try:
        log = log.expanduser()
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(line)
    except OSError as err:
        click.echo(f"calsync: cannot write the log {log}: {err.strerror or err}", err=True)
