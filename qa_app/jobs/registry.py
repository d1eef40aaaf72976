"""Job kinds and their handlers, registered by the features that own them.

The jobs package sits low in the layers (right after auth and org) and imports no feature; each
feature registers its kinds in its own ``jobs.py``, which create_app() imports. A handler gets a
session of its own and a JobContext, does its work (it may commit, as the importer does), and
returns a JSON-able summary, which is stored as the job's result. It must be idempotent: a job
whose worker crashed is run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from qa_app.jobs.errors import UnknownJobKind

ProgressCallback = Callable[[int, int | None, str | None], None]


@dataclass(frozen=True)
class JobContext:
    job_id: int
    kind: str
    params: dict[str, Any]
    started_by_id: int | None
    attempt: int
    report: ProgressCallback = field(repr=False)

    def progress(self, done: int, total: int | None = None, note: str | None = None) -> None:
        """Report ``done`` of ``total`` units (``note``: a line for people, e.g. "1,200 read")."""
        self.report(done, total, note)


Handler = Callable[[Session, JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str  # for people: "Import conversations"
    handler: Handler
    # The feature's own validation errors: like JobInputError, they fail the job at once.
    input_errors: tuple[type[BaseException], ...] = ()


_KINDS: dict[str, JobKind] = {}


def register_kind(
    name: str,
    handler: Handler,
    *,
    label: str,
    input_errors: tuple[type[BaseException], ...] = (),
) -> JobKind:
    """Register (or register again, e.g. on a module reload) the handler of a kind."""
    kind = JobKind(name, label, handler, input_errors)
    _KINDS[name] = kind
    return kind


def kind_for(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownJobKind(f"no handler is registered for jobs of kind {name!r}") from None


def is_registered(name: str) -> bool:
    return name in _KINDS


def kind_label(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.label if kind else name.replace("_", " ").capitalize()


def registered_kinds() -> list[JobKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.label)
