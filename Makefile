# Everyday commands. Only Python 3.11+ is needed: the rest installs itself into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
BENCH_SCALE ?= small

.PHONY: run test lint format bench venv dev-venv messages clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed
dev-venv: $(VENV)/.dev-installed

## run: migrate, load the demo municipality when empty, serve the admin and run the task cluster
run: venv
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(PY) manage.py setup_roles
	DEBUG=$${DEBUG:-1} $(PY) manage.py setup_schedules
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo --if-empty
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver_with_cluster --port $(PORT)

## test: the whole suite on SQLite, or on PostgreSQL with DATABASE_URL=postgres://...
test: dev-venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: dev-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev-venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: benchmarks (not tests); needs DATABASE_URL=postgres://... for meaningful figures
bench: dev-venv
	BENCH_SCALE=$(BENCH_SCALE) $(PY) -m bench.run

messages: venv
	$(PY) manage.py makemessages -l nl --ignore=.venv --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles
