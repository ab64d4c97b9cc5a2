# PanNET Board: two commands for a newcomer on a fresh Debian machine with Python 3.11.
#   make run   - create .venv, install, start the dashboard on 127.0.0.1 with the demo cohort
#   make test  - install what the tests need (dev requirements, Debian's chromium), lint, and run the suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test bench chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# Browser tests and PNG export need a Chromium; install Debian's when missing and we are root.
chromium:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's chromium for browser tests and PNG export"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing and we are not root: browser tests and PNG export will be skipped"; fi

test: $(VENV)/.dev chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# compileall: the timed commands import pannet_core from its bytecode, as after any normal first run
# (where PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile the package on every start)
bench: $(VENV)/.dev
	$(BIN)/python -m compileall -q pannet_core
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
