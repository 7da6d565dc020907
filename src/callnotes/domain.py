"""The vocabulary shared by every layer: one enum per domain concept, one value per member.

The MSX layer decides which enum member an account-team row is (reference/001, "Identifying Sellers
vs SEs"); the store persists the member's value; the web shows its label. Neither layer translates.
This module imports nothing of callnotes, so both ``msx/`` and ``store/`` may use it.
"""

from __future__ import annotations

from enum import StrEnum


class SellerType(StrEnum):
    """Seller role on the account team (``msp_qualifier2`` "Cloud & AI" / "Cloud & AI-Acq")."""

    GROWTH = "growth"
    ACQUISITION = "acquisition"

    @property
    def label(self) -> str:
        return self.value.title()


class SeSpecialty(StrEnum):
    """Solution engineer role ("Cloud & AI Data" / "Infrastructure" / "Apps")."""

    DATA = "data"
    INFRA = "infra"
    APPS = "apps"

    @property
    def label(self) -> str:
        return self.value.title()
