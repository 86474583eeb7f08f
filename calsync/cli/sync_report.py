"""Sync reports for people (one line per target, the change set) and for scripts (JSON)."""

from __future__ import annotations

from typing import Any

from calsync.cli.report import conflict_json
from calsync.sync.engine import Action, Outcome, SyncReport


def sync_counts(report: SyncReport) -> dict[str, int]:
    changes = report.changes
    return {
        "created": report.count(Action.CREATE),
        "updated": report.count(Action.UPDATE),
        "deleted": report.count(Action.DELETE),
        "unchanged": changes.unchanged,
        "kept_edited": len(changes.kept_edited)
        + sum(1 for r in report.results if r.outcome is Outcome.EDITED),
        "kept_deleted": len(changes.kept_deleted),
        "failed": len(report.failures),
    }


def sync_line(report: SyncReport) -> str:
    counts = sync_counts(report)
    verb = "would be " if report.dry_run else ""
    text = (
        f"{report.target}: {counts['created']} {verb}created, {counts['updated']} {verb}updated, "
        f"{counts['deleted']} {verb}deleted, {counts['unchanged']} unchanged"
    )
    if counts["kept_edited"] or counts["kept_deleted"]:
        text += f"; kept {counts['kept_edited']} edited, {counts['kept_deleted']} deleted by you"
    if counts["failed"]:
        text += f"; {counts['failed']} FAILED"
    return text


def change_lines(report: SyncReport) -> list[str]:
    """The change set, one line each: what --dry-run shows."""
    lines = [
        f"  {c.action.value:<7} {c.start:%a %Y-%m-%d %H:%M}  {c.summary}"
        for c in report.changes.changes
    ]
    lines += [
        f"  {'keep':<7} {r.start:%a %Y-%m-%d %H:%M}  {r.summary} (edited by you)"
        for r in report.changes.kept_edited
    ]
    lines += [
        f"  {'keep':<7} {r.start:%a %Y-%m-%d %H:%M}  {r.summary} (deleted by you)"
        for r in report.changes.kept_deleted
    ]
    lines += [
        f"  failed  {r.change.start:%a %Y-%m-%d %H:%M}  {r.change.summary}: {r.error}"
        for r in report.failures
    ]
    return lines


def sync_json(report: SyncReport) -> dict[str, Any]:
    return {
        "target": report.target,
        "dry_run": report.dry_run,
        "counts": sync_counts(report),
        "changes": [
            {
                "action": c.action.value,
                "key": c.key,
                "start": c.start.isoformat(),
                "summary": c.summary,
            }
            for c in report.changes.changes
        ],
        "failures": [
            {"action": r.change.action.value, "key": r.change.key, "error": r.error}
            for r in report.failures
        ],
        "conflicts": [conflict_json(c) for c in report.conflicts],
        "warnings": list(report.warnings),
    }
