"""SMTP with STARTTLS and authentication, against a real aiosmtpd that requires both (its
certificate made here, signed by a CA of the test's own): the reminder arrives; a wrong
password or an untrusted certificate is a temporary failure (the configuration, not the
address: the reminder stays planned and is retried), and nothing is marked sent."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devstack.embedded import free_port
from devstack.smtp import MaildirHandler
from services.notify import mailer, planner, sender
from services.notify.config import NotifySettings
from services.notify.models import Reminder
from services.notify.tasks import policy
from shared.db import tenant_session
from shared.timeutil import VN_TZ
from tests.notify.conftest import THANH_HOA, obligations, received, unit

USER, PASSWORD = "sangkien", "mat-khau-smtp-thu"


def _cert(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sáng kiến test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture
def tls_smtp(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    ca, cert, key = _cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(
        MaildirHandler(tmp_path / "mail"),
        hostname="127.0.0.1",
        port=port,
        tls_context=ctx,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    yield port, tmp_path / "mail", ca
    controller.stop()


def test_starttls_and_login(
    sessions: sessionmaker[Session], notify_settings: NotifySettings, tls_smtp: tuple[int, Path, Path]
) -> None:
    port, maildir, ca = tls_smtp
    good = notify_settings.model_copy(
        update={"smtp_port": port, "smtp_user": USER, "smtp_password": SecretStr(PASSWORD), "smtp_ca_file": str(ca)}
    )
    with tenant_session(sessions, THANH_HOA) as s:
        ids = planner.plan(s, obligations([unit("TLS1")]), dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(good))

    # The server asks for STARTTLS even though the settings do not say so: the client follows.
    assert good.smtp_starttls is False
    # (aiosmtpd keeps a refused login's connection until the client's timeout: keep it short.)
    wrong_password = good.model_copy(update={"smtp_password": SecretStr("sai"), "smtp_timeout_seconds": 2.0})
    untrusted = good.model_copy(update={"smtp_ca_file": None})  # the machine's CAs: not ours
    for bad in (wrong_password, untrusted):
        with pytest.raises(sender.TemporaryFailure):
            sender.send_batch(sessions, THANH_HOA, ids, lambda b=bad: mailer.connect(b), bad.smtp_from)
    with tenant_session(sessions, THANH_HOA) as s:
        assert s.scalar(select(Reminder.state).where(Reminder.id == ids[0])) == "planned"
    assert received(maildir) == []

    out = sender.send_batch(sessions, THANH_HOA, ids, lambda: mailer.connect(good), good.smtp_from)
    assert out.sent == ids
    [mail] = received(maildir)
    assert mail["To"] == "tls1@ldld.example.vn"
