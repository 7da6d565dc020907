"""Topics (tags on notes): created on the fly, unique ignoring case and surrounding spaces."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callnotes.store.errors import Conflict, ValidationError
from callnotes.store.limits import TOPIC_NAME_MAX, TOPICS_MAX
from callnotes.store.models import Topic, note_topics
from callnotes.store.repo._common import get_or_raise, required_text


def normalise_topic_name(name: str) -> tuple[str, str]:
    """``(display name, key)``: inner whitespace collapsed; the key is case-folded."""
    display = " ".join(required_text(name, "topic", TOPIC_NAME_MAX).split())
    return display, display.casefold()


def get_or_create_topics(session: Session, names: Iterable[str]) -> list[Topic]:
    """The topics called ``names`` (creating missing ones), in the given order, without duplicates."""
    wanted: dict[str, str] = {}
    for name in names:
        display, key = normalise_topic_name(name)
        wanted.setdefault(key, display)
    if not wanted:
        return []
    existing = {t.name_key: t for t in session.scalars(select(Topic).where(Topic.name_key.in_(wanted)))}
    return [existing.get(key) or _create_topic(session, display, key) for key, display in wanted.items()]


def check_topic_count(session: Session, adding: int = 1) -> None:
    """:class:`ValidationError` when ``adding`` more topics would pass :data:`TOPICS_MAX` (every page
    that offers topics lists them, so their number is bounded like any other input)."""
    stored = session.scalar(select(func.count()).select_from(Topic)) or 0
    if stored + adding > TOPICS_MAX:
        raise ValidationError(
            f"at most {TOPICS_MAX:,} topics can be stored ({stored:,} already are); reuse or delete some",
            field="topics")


def _create_topic(session: Session, display: str, key: str) -> Topic:
    """Insert a topic; if a concurrent transaction just created the same one, use theirs."""
    check_topic_count(session)
    try:
        with session.begin_nested():
            topic = Topic(name=display, name_key=key)
            session.add(topic)
        return topic
    except IntegrityError:
        found = session.scalar(select(Topic).where(Topic.name_key == key))
        if found is None:
            raise
        return found


@dataclass(frozen=True)
class TopicSummary:
    topic: Topic
    note_count: int


def note_ids_with_topic(name: str) -> Select[Any]:
    """Subquery: ids of the notes tagged with topic ``name`` (any case / spacing)."""
    _, key = normalise_topic_name(name)
    return (select(note_topics.c.note_id).join(Topic, Topic.id == note_topics.c.topic_id)
            .where(Topic.name_key == key))


def list_topics(session: Session, *, most_used: int | None = None) -> list[TopicSummary]:
    """Every topic with the number of notes carrying it, by name; ``most_used``: only that many,
    the most used first (the editor's topic chips)."""
    counts = (
        select(note_topics.c.topic_id, func.count().label("n")).group_by(note_topics.c.topic_id).subquery()
    )
    uses = func.coalesce(counts.c.n, 0)
    stmt = select(Topic, uses).outerjoin(counts, counts.c.topic_id == Topic.id)
    if most_used is not None:
        stmt = stmt.order_by(uses.desc(), Topic.name_key).limit(most_used)
    else:
        stmt = stmt.order_by(Topic.name_key)
    return [TopicSummary(topic, int(n)) for topic, n in session.execute(stmt)]


def get_topic(session: Session, topic_id: int) -> Topic:
    return get_or_raise(session, Topic, topic_id, "topic")


def get_topic_by_name(session: Session, name: str) -> Topic | None:
    _, key = normalise_topic_name(name)
    return session.scalar(select(Topic).where(Topic.name_key == key))


def rename_topic(session: Session, topic_id: int, name: str) -> Topic:
    """Rename; :class:`Conflict` when another topic already has that name."""
    topic = get_topic(session, topic_id)
    display, key = normalise_topic_name(name)
    other = session.scalar(select(Topic).where(Topic.name_key == key, Topic.id != topic_id))
    if other is not None:
        raise Conflict(f"a topic called {other.name!r} already exists")
    topic.name, topic.name_key = display, key
    session.flush()
    return topic


def delete_topic(session: Session, topic_id: int) -> None:
    """Delete the topic; notes keep everything else."""
    session.delete(get_topic(session, topic_id))
    session.flush()
