"""What a job needs in the process that runs it: that process's settings and database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from callnotes.config import Settings


@dataclass(frozen=True)
class SyncContext:
    settings: Settings
    session_factory: sessionmaker[Session]
