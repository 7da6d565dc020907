"""Schemathesis against the app's own ``/openapi.json`` (issue 14): every documented operation, fed
schema-shaped and malformed data, answers no 5xx, a documented status, and a body that matches the
schema for that status (errors included: ``{"detail": [{loc, msg, type}]}``). Real uvicorn on
127.0.0.1, SQLite and PostgreSQL; 8 examples per operation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from callnotes.config import Settings
from callnotes.web.app import create_app
from callnotes.web.server import running_server

pytestmark = pytest.mark.slow
_CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
           checks.response_schema_conformance, checks.response_headers_conformance,
           checks.negative_data_rejection]


@pytest.fixture()
def served(web_settings: Settings) -> Iterator[str]:
    with running_server(create_app(web_settings, worker=False)) as base:
        yield base


@pytest.fixture()
def browser_session(served: str) -> Iterator[requests.Session]:
    """A client holding the CSRF cookie and sending its token, as the README tells API clients to."""
    with requests.Session() as session:
        session.headers["X-CSRF-Token"] = session.get(f"{served}/api/csrf").json()["csrf_token"]
        yield session


#: The document the server serves at /openapi.json (built without starting the app; the test below
#: checks that the served one is this one).
_DOCUMENT = create_app(Settings(crm_url=None), worker=False).openapi()
schema = schemathesis.openapi.from_dict(_DOCUMENT)


def test_the_served_schema_is_the_one_tested(served: str) -> None:
    assert requests.get(f"{served}/openapi.json", timeout=30).json() == _DOCUMENT


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_matches_its_openapi_schema(
    case: schemathesis.Case, served: str, browser_session: requests.Session
) -> None:
    case.call_and_validate(base_url=served, session=browser_session, checks=_CHECKS)
