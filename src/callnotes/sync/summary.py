"""What an import (or a refresh) did to the store, by record kind, plus its HTTP cost."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class KindCounts:
    """Per record kind: how many MSX returned, how many were new, how many were marked gone."""

    seen: int = 0
    created: int = 0
    marked_gone: int = 0


@dataclass
class ImportSummary:
    """What an import did, by record kind, plus the HTTP cost. ``updated`` counts every kind."""

    counts: dict[str, KindCounts] = field(default_factory=dict)
    updated: int = 0
    http_requests: int = 0
    batch_parts: int = 0
    seconds: float = 0.0
    #: A refresh: accounts newly mine that it left to a full import.
    new_accounts: int = 0

    def kind(self, name: str) -> KindCounts:
        return self.counts.setdefault(name, KindCounts())

    @property
    def changed(self) -> int:
        return self.updated + sum(c.created + c.marked_gone for c in self.counts.values())

    def lines(self) -> list[str]:
        rows = [f"{name}: {c.seen} ({c.created} new, {c.marked_gone} gone from MSX)"
                for name, c in self.counts.items()]
        rows.append(f"{self.updated} existing records updated")
        cost = f"{self.http_requests} HTTP requests ({self.batch_parts} batched reads)"
        rows.append(f"{cost} in {self.seconds:.1f} s")
        return rows
