from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from services.notify import mailer
from services.notify.app import create_app
from services.notify.config import NotifySettings
from shared.config import CommonSettings


def _settings(base_env: dict[str, str], port: int, maildir: Path | None) -> NotifySettings:
    env = {k.lower(): v for k, v in base_env.items()}
    return NotifySettings(**env, smtp_port=port, dev_mailbox_dir=str(maildir) if maildir else None)


def test_mail_reaches_the_local_server_and_its_inbox_page(
    base_env: dict[str, str], smtp_server: tuple[int, Path], migrated: CommonSettings
) -> None:
    port, maildir = smtp_server
    s = _settings(base_env, port, maildir)
    before = set(maildir.glob("*.eml"))
    subject = "Nhắc hạn: còn 3 ngày <script>alert(1)</script>"
    msg = mailer.build_message(
        s,
        to="ldld.haquang@example.vn",
        subject=subject,
        text="Kính gửi LĐLĐ huyện Hà Quảng,\nđã chọn 1/2 sáng kiến.",
        html="<p>x</p>",
    )
    mailer.send(s, msg)
    new = set(maildir.glob("*.eml")) - before
    assert len(new) == 1  # the real server received exactly one message

    with TestClient(create_app(s)) as c:
        assert c.get("/readyz").json()["checks"] == {"postgres": "ok", "redis": "ok", "smtp": "ok"}
        page = c.get("/hop-thu")
        assert page.status_code == 200
        assert "Nhắc hạn: còn 3 ngày &lt;script&gt;" in page.text and "<script>alert" not in page.text
        mid = next(iter(new)).stem
        detail = c.get(f"/hop-thu/{mid}")
        assert "đã chọn 1/2 sáng kiến" in detail.text
        assert c.get("/hop-thu/..%2Fsecrets").status_code == 404
        assert c.get("/hop-thu/khong-co").status_code == 404


def test_readyz_fails_without_smtp(base_env: dict[str, str], migrated: CommonSettings) -> None:
    from devstack.embedded import free_port

    s = _settings(base_env, free_port(), None)
    with TestClient(create_app(s)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["smtp"].startswith("lỗi")
        assert "không dùng máy chủ SMTP nội bộ" in c.get("/hop-thu").text
