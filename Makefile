# The two commands: `make run` (whole system, real parts) and `make test` (the suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench soak install clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Without Pango the rest still runs; only the dossiers' PDF would fail (hence the leading '-').
run: $(STAMP)
	-sh tools/apt-install.sh libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
	$(BIN)/python -m devstack run

# Debian's Chromium for the browser tests (a test tool's own browser download cannot work here),
# and the text layout libraries WeasyPrint renders the dossiers' PDF with (reporting).
system-packages:
	sh tools/apt-install.sh chromium chromium-driver libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

test: $(STAMP) system-packages
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services devstack
	$(BIN)/lint-imports

# Throughput and end-to-end timing against baselines measured in the same run (docs/benchmarks.md).
bench: $(STAMP)
	sh tools/apt-install.sh wrk
	$(BIN)/python -m bench

# Half of intake's measured maximum for 30 minutes, officers working beside it (docs/reliability.md).
soak: $(STAMP)
	sh tools/apt-install.sh wrk
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .data
