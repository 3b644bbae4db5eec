"""Nomination dossiers as review hands them to reporting: for a unit and a round, the Tờ trình's
particulars and the Bảng tổng hợp's rows of what the unit recommended upward.

The snapshot leaves review with nothing in clear that the rules keep in: the phone is masked to
its last three digits, the ID number is not in it at all, and a trade-secret initiative carries
only its name, effect and award (its content never leaves review)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.review.accounts.principal import Officer
from services.review.accounts.service import unit_names_in_reach
from services.review.dossiers import repository as repo
from services.review.models import Campaign, Submission, Unit, UnitKind
from services.review.workflow import repository as wf_repo
from services.review.workflow.access import EVERYONE, record_act, require_role, visible_unit
from services.review.workflow.appraisal import round_for
from services.review.workflow.models import Case, Round
from shared.contracts.dossier import MAX_DOSSIERS_PER_REQUEST, Dossier, DossierJobOut, DossierRow
from shared.errors import Conflict, NotFound
from shared.pii import PHONE, PiiCipher, mask
from shared.timeutil import local, now

NATIONAL_NAME = "Tổng Liên đoàn Lao động Việt Nam"
# The symbol after "TTr-" by the kind of the issuing body (Nghị định 30/2020: abbreviation of
# the body's name).
SYMBOLS = {
    UnitKind.province.value: "LĐLĐ",
    UnitKind.district.value: "LĐLĐ",
    UnitKind.central_sector.value: "CĐN",
    UnitKind.provincial_sector.value: "CĐN",
    UnitKind.industrial_zone.value: "CĐKCN",
    UnitKind.grassroots_direct.value: "CĐCS",
    UnitKind.grassroots.value: "CĐCS",
}
# Prefixes a unit's name carries before the place it is named after ("Liên đoàn Lao động
# huyện Hà Quảng" → "Hà Quảng"), longest first.
PLACE_PREFIXES = (
    "Liên đoàn Lao động thành phố ",
    "Liên đoàn Lao động thị xã ",
    "Liên đoàn Lao động huyện ",
    "Liên đoàn Lao động quận ",
    "Liên đoàn Lao động tỉnh ",
    "Liên đoàn Lao động ",
)


def place_of(unit: Unit, parent: Unit | None) -> str:
    """Where the document is issued, as written before its date: the place a labour federation
    is named after; otherwise the place of the federation above it."""
    for prefix in PLACE_PREFIXES:
        if unit.name.startswith(prefix):
            return unit.name[len(prefix) :]
    if parent is not None:
        for prefix in PLACE_PREFIXES:
            if parent.name.startswith(prefix):
                return parent.name[len(prefix) :]
    return "Hà Nội"


def _round(session: Session, officer: Officer, campaign_code: str, round_code: str) -> tuple[Round, Campaign]:
    rnd, campaign_id = round_for(session, officer, campaign_code, round_code)  # the workflow's 404s
    campaign = wf_repo.campaign(session, campaign_id)
    assert campaign is not None
    return rnd, campaign


def _row(sub: Submission, case: Case | None, cipher: PiiCipher) -> DossierRow:
    secret = bool(case and case.trade_secret)
    return DossierRow(
        tracking_code=sub.tracking_code,
        full_name=sub.full_name,
        birth_year=sub.birth_year,
        position=sub.position,
        workplace=sub.workplace,
        phone_masked=None if sub.phone_enc is None else mask(cipher.open(sub.phone_enc, kind=PHONE)),
        title=sub.title,
        applied_from=None if secret else sub.applied_from,
        summary=None if secret else sub.description,
        benefit=sub.benefit,
        awards=sub.awards,
        trade_secret=secret,
    )


def _dossier(
    session: Session,
    officer: Officer,
    cipher: PiiCipher,
    rnd: Round,
    campaign_code: str,
    campaign_name: str,
    unit: Unit,
) -> Dossier:
    tenant = officer.tenant_id
    parent = wf_repo.unit(session, tenant, unit.parent_id) if unit.parent_id is not None else None
    to_name = parent.name if parent is not None else NATIONAL_NAME
    rows = [_row(sub, case, cipher) for sub, case in repo.nominated(session, tenant, rnd.id, unit.id)]
    return Dossier(
        tenant_id=tenant,
        campaign_code=campaign_code,
        campaign_name=campaign_name,
        round_code=rnd.code,
        round_name=rnd.name,
        unit_code=unit.code,
        unit_name=unit.name,
        superior_name=to_name if parent is not None else NATIONAL_NAME,
        recipient_name=f"Ban Thường vụ {to_name}" if parent is not None else f"Đoàn Chủ tịch {NATIONAL_NAME}",
        number_symbol=f"Số:      /TTr-{SYMBOLS.get(unit.kind, 'CĐ')}",
        place=place_of(unit, parent),
        issued_on=local(now()).date(),
        signer_name=repo.chair_name(session, tenant, unit.id),
        recipients=[],
        rows=rows,
    )


def dossier_of_unit(
    session: Session, officer: Officer, cipher: PiiCipher, campaign_code: str, round_code: str, unit_code: str | None
) -> Dossier:
    """The dossier of the officer's unit, or of a unit below it, for the round."""
    require_role(officer, EVERYONE)
    rnd, campaign = _round(session, officer, campaign_code, round_code)
    campaign_name, tree_id = campaign.name, campaign.tree_id
    if unit_code:
        unit = visible_unit(session, officer, tree_id, unit_code)
    else:
        found = wf_repo.unit(session, officer.tenant_id, officer.unit_id)
        assert found is not None
        unit = found
    return _dossier(session, officer, cipher, rnd, campaign_code, campaign_name, unit)


def dossiers_of_round(
    session: Session, officer: Officer, cipher: PiiCipher, campaign_code: str, round_code: str
) -> list[Dossier]:
    """Every unit at or below the officer's that recommended something in the round: what a
    province renders at once on the last evening."""
    require_role(officer, EVERYONE)
    rnd, campaign = _round(session, officer, campaign_code, round_code)
    campaign_name = campaign.name
    ids = repo.units_that_nominated(
        session, officer.tenant_id, rnd.id, wf_repo.subtree(session, officer.tenant_id, officer.unit_id)
    )
    units = wf_repo.units_by_ids(session, officer.tenant_id, ids[:MAX_DOSSIERS_PER_REQUEST])
    return [_dossier(session, officer, cipher, rnd, campaign_code, campaign_name, units[i]) for i in sorted(units)]


# --- downloads -----------------------------------------------------------------------------

DOWNLOAD_ACTION = "tai_ho_so"
FORMATS = ("pdf", "docx")


def download_link(session: Session, officer: Officer, job: DossierJobOut, fmt: str) -> str:
    """Where the officer's browser fetches the dossier (reporting's presigned link), once the
    audit log says who downloaded whose data: the job's initiatives are the entry's subjects.
    A job of a unit outside the officer's reach is not found, as on the page that lists it."""
    require_role(officer, EVERYONE)
    if fmt not in FORMATS or job.unit_code not in unit_names_in_reach(session, officer):
        raise NotFound("Không tìm thấy hồ sơ")
    url = job.pdf_url if fmt == "pdf" else job.docx_url
    if url is None:
        raise Conflict("Hồ sơ chưa được tạo xong, vui lòng chờ trong giây lát")
    record_act(
        session,
        officer,
        action=DOWNLOAD_ACTION,
        entity="dossier",
        entity_id=job.id,
        after={"format": fmt, "unit": job.unit_code, "round": job.round_code, "rows": job.rows},
        subjects=repo.submission_ids_by_code(session, officer.tenant_id, job.tracking_codes),
    )
    return url
