"""Where the retention job runs every day: a CronJob in every Kubernetes target (rendered by a
real kustomize, checked against the code as tests/deploy checks the Deployments) and a loop in
`make run`, both running the command the retention test runs (`sangkien review retention`)."""

from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy.test_manifests import (
    ADMIN_ENV,
    COMPOSE_JOBS,
    IMAGE,
    TARGETS,
    compose,
    compose_env,
    container_env,
    expected_image,
    known_env,
    named,
    of_kind,
    pod_run,
    render,
    selects,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("target", TARGETS)
def test_a_daily_cronjob_runs_the_retention_command(target: str) -> None:
    docs = render(target)
    cron = named(docs, "CronJob", "review-retention")
    assert cron is not None, f"{target}: no CronJob review-retention"
    spec = cron["spec"]
    minute, hour, dom, month, dow = spec["schedule"].split()
    assert (dom, month, dow) == ("*", "*", "*") and minute.isdigit() and hour.isdigit(), spec["schedule"]
    assert spec["timeZone"] == "Asia/Ho_Chi_Minh" and spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    (c,) = pod["containers"]
    assert c["args"] == ["review", "retention"] and c.get("command") in (None, ["sangkien"])
    assert c["image"] == expected_image(target)
    # The same hardening as every other pod.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert tmp and any(v["name"] == tmp[0]["name"] and "emptyDir" in v for v in pod["volumes"])
    assert c["resources"]["requests"]
    # What it reads is what the code reads; secrets by reference; never the administrator's URL.
    env = container_env(c, docs, "review-retention")
    assert not set(env) - known_env(), set(env) - known_env()
    refs = {i["name"]: i["valueFrom"]["secretKeyRef"] for i in c["env"] if "valueFrom" in i}
    assert {"APP_DATABASE_URL", "PII_ENCRYPTION_KEYS", "PII_HASH_KEY", "SERVICE_TOKEN_SECRET"} <= set(refs)
    assert all(ref["key"] == name for name, ref in refs.items())
    assert not set(env) & ADMIN_ENV
    assert env.get("REDIS_URL"), "the job deletes tracking records in Redis"
    # It reaches reporting's API, with the same token secret reporting verifies with.
    reporting_url = urlsplit(str(env["REPORTING_URL"]))
    service = named(docs, "Service", reporting_url.hostname or "")
    assert service is not None
    api = next(d for d in of_kind(docs, "Deployment") if pod_run(d["spec"]["template"]["spec"]) == ("reporting", "api"))
    assert selects(service["spec"]["selector"], api["spec"]["template"]["metadata"]["labels"])
    api_env = {i["name"]: i for i in api["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    assert api_env["SERVICE_TOKEN_SECRET"]["valueFrom"]["secretKeyRef"]["key"] == refs["SERVICE_TOKEN_SECRET"]["key"]


def test_make_run_keeps_a_daily_retention_loop() -> None:
    """devstack's table of long-running processes holds the same command, looping once a day."""
    tree = ast.parse((ROOT / "devstack" / "__main__.py").read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "review-retention" and isinstance(value, ast.List):
                    found.append([e.value for e in value.elts if isinstance(e, ast.Constant)])
    assert found == [["review", "retention", "--every", "86400"]], found


def test_compose_loops_the_retention_command_daily() -> None:
    """Compose has no scheduler: the same command as the CronJob, looping once a day, on the one
    image, reaching reporting's API, never with the administrator's credentials."""
    (name,) = COMPOSE_JOBS
    job = compose()["services"][name]
    assert str(job["image"]).split(":")[0] == IMAGE
    assert job["command"] == ["review", "retention", "--every", "86400"]
    env = compose_env(job)
    assert not set(env) - known_env(), set(env) - known_env()
    assert not set(env) & ADMIN_ENV
    assert env.get("REDIS_URL") and env.get("APP_DATABASE_URL")
    reporting = urlsplit(str(env["REPORTING_URL"]))
    assert reporting.hostname in compose()["services"], reporting.hostname
