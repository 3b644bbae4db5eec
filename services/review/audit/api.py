"""“Who saw this person's data” as JSON, for a quản trị (the console's page is pages.py): POST
with the number in the body; the answer shows it masked."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.review.accounts.deps import CurrentOfficer, OfficerSession
from services.review.audit import viewers
from services.review.audit.schemas import SightingOut, WhoSawIn, WhoSawOut
from shared.apierrors import error_responses
from shared.pii import PiiCipher

router = APIRouter(prefix="/api/v1/workflow/audit", tags=["nhật ký"], responses=error_responses(401, 403))


@router.post("/who-saw", response_model=WhoSawOut, summary="Ai đã xem dữ liệu của người này")
def who_saw(request: Request, body: WhoSawIn, officer: CurrentOfficer, session: OfficerSession) -> WhoSawOut:
    found = viewers.who_saw(session, officer, PiiCipher.from_settings(request.app.state.settings), body.number)
    return WhoSawOut(
        number_masked=found.number_masked,
        taken_as=found.kinds,
        tracking_codes=found.tracking_codes,
        sightings=[SightingOut(**s.__dict__) for s in found.sightings],
        truncated=found.truncated,
    )
