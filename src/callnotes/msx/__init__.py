"""callnotes.msx: MSX (Dynamics 365) schema and operations over the Dataverse client, and the import
of a seller's world into the store (DESIGN.md §msx).

Modules: ``schema`` (constants), ``links`` (record URLs, Teams links), ``records`` (typed rows),
``accounts`` / ``people`` / ``opportunities`` / ``milestones`` / ``teams`` / ``tasks`` (operations),
``importer`` (the batched import), ``progress`` (events, cancel, summary), ``demo`` (demo mode),
``cli`` (``callnotes import accounts``).
"""

from callnotes.msx.errors import (
    ImportCancelled,
    InvalidInput,
    MalformedCrmAnswer,
    MsxError,
    MsxNotFound,
    VpnDown,
)
from callnotes.msx.importer import fetch_snapshot, run_import
from callnotes.msx.links import account_url, milestone_url, opportunity_url, teams_chat_url
from callnotes.msx.progress import CancelToken, ImportSummary, ProgressEvent
from callnotes.msx.records import (
    Account,
    AccountTeamMember,
    Milestone,
    MsxTask,
    MsxUser,
    Opportunity,
    Territory,
    WhoAmI,
    pod_name,
)
from callnotes.msx.schema import HokCategory, Role, SellerType, SeSpecialty

__all__ = [
    "Account",
    "AccountTeamMember",
    "CancelToken",
    "HokCategory",
    "ImportCancelled",
    "ImportSummary",
    "InvalidInput",
    "MalformedCrmAnswer",
    "Milestone",
    "MsxError",
    "MsxNotFound",
    "MsxTask",
    "MsxUser",
    "Opportunity",
    "ProgressEvent",
    "Role",
    "SeSpecialty",
    "SellerType",
    "Territory",
    "VpnDown",
    "WhoAmI",
    "account_url",
    "fetch_snapshot",
    "milestone_url",
    "opportunity_url",
    "pod_name",
    "run_import",
    "teams_chat_url",
]
