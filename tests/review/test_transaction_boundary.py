"""Every request-scoped session of review commits before its response leaves: FastAPI's default
scope for a dependency with yield ends it after the response is sent, which let a browser follow
a 303 to a page that still showed the state before the change (and would have answered a
success for a commit that then failed). A new session dependency has to be listed here."""

from __future__ import annotations

import typing

import pytest

from services.review.accounts.deps import OfficerSession, PageSession
from services.review.api import SessionDep


@pytest.mark.parametrize("alias", [OfficerSession, PageSession, SessionDep], ids=["officer", "page", "public"])
def test_the_session_commits_before_the_response(alias: object) -> None:
    depends = typing.get_args(alias)[1]
    assert depends.scope == "function", f"{depends.dependency.__name__} commits after the response is sent"
