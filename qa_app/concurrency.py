"""Saves that race: two requests changing, or creating, the same row at the same moment.

A "get or create" (find the row, insert it when missing) races when two requests run it at once
(a double click, two API calls): both find nothing, both insert, and the unique constraint that
keeps the row single refuses the second with an IntegrityError, which would answer 500. The
rules, for every service that creates on first save:

* :func:`locked` reads a row that is about to change under a lock, so writers of an existing
  row go one after the other: ``SELECT ... FOR UPDATE`` on PostgreSQL. SQLite has no row locks
  but one write lock for the whole database: the write transaction is begun (``BEGIN
  IMMEDIATE``) before the read, so nobody writes between the read and the change.
* :func:`save_once` finds (locked) or makes the row, applies the change, and inserts a new row
  inside a SAVEPOINT. When another transaction inserted the same key first, only the savepoint
  is rolled back; the winner's row is read, locked, and the change applied to it instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")


def write_lock(session: Session) -> None:
    """On SQLite, begin the write transaction now unless one is open (a no-op elsewhere).

    Python's sqlite3 driver begins a transaction only before INSERT, UPDATE or DELETE; until
    then reads see whatever is committed at each statement, and a SAVEPOINT would not belong
    to the transaction. Waits (the busy timeout) while another connection writes.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver: Any = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def locked(session: Session, stmt: Select[Any], *of: Any) -> Select[Any]:
    """``stmt`` reading rows to change: locked until commit, and the loaded objects refreshed.

    ``of`` names the entities to lock when the statement joins others (PostgreSQL cannot lock
    the nullable side of an outer join).
    """
    write_lock(session)
    return stmt.with_for_update(of=list(of) or None).execution_options(populate_existing=True)


def lock_row(session: Session, row: Any) -> None:
    """Re-read a loaded row under a lock, so concurrent changes to it run one by one."""
    write_lock(session)
    session.refresh(row, with_for_update=True)


def try_insert(session: Session, row: Any) -> IntegrityError | None:
    """Insert ``row`` inside a SAVEPOINT: None when written; the IntegrityError when refused,
    with only the savepoint rolled back (the transaction goes on, ``row`` is discarded)."""
    write_lock(session)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        return error
    return None


def insert_once(session: Session, row: T, find: Callable[[], T | None]) -> tuple[T, bool]:
    """Insert ``row``; (row, True), or (the row found, False) when another transaction
    inserted the same unique key first. Any other IntegrityError propagates."""
    refused = try_insert(session, row)
    if refused is None:
        return row, True
    existing = find()
    if existing is None:
        raise refused
    return existing, False


def save_once(
    session: Session,
    find: Callable[[], T | None],
    make: Callable[[], T],
    change: Callable[[T], None],
) -> tuple[T, bool]:
    """Get or create a row that a unique constraint keeps single, and apply ``change`` to it.

    ``find`` reads the row locked (see :func:`locked`), ``make`` builds a new one, ``change``
    applies the save (it may raise the feature's own error: nothing is written then). Returns
    (row, created); ``created`` is False when another transaction created the row first.
    """
    row = find()
    if row is None:
        fresh = make()
        change(fresh)
        inserted, created = insert_once(session, fresh, find)
        if created:
            return inserted, True
        row = inserted
    change(row)
    session.flush()
    return row, False
