# Ardoise — two commands on a fresh Debian 12 machine, as root:
#   make demo   installs everything and runs the main job on the example territory
#   make test   installs everything and runs the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLE := $(VENV)/.installe

.PHONY: demo test installer lint labo-demarrer labo-arreter bench nettoyer collection

installer: $(INSTALLE)

$(INSTALLE): pyproject.toml scripts/installer-dependances.sh scripts/installer-labo.sh
	sh scripts/installer-dependances.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,labo]'
	# fake-switches declares Twisted<17, which does not build on Python 3.11: installed without deps,
	# its real dependencies are pinned in the [labo] extra.
	$(BIN)/pip install -q --no-deps fake-switches==1.5.0
	touch $@

demo: $(INSTALLE)
	PATH=$(CURDIR)/$(BIN):$$PATH bash scripts/demo.sh

test: $(INSTALLE)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/pytest -q -p no:cacheprovider --durations=25 tests

lint: $(INSTALLE)
	$(BIN)/ruff check src tests plugins benchmarks
	$(BIN)/ruff format --check src tests plugins benchmarks

labo-demarrer: $(INSTALLE)
	$(BIN)/ardoise labo demarrer

labo-arreter: $(INSTALLE)
	$(BIN)/ardoise labo arreter

bench: $(INSTALLE)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python benchmarks/inventaire/mesurer.py
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python benchmarks/labo.py

# the Ansible collection ardoise.territoire (inventory plugin + roles) for AWX/Semaphore/AAP: sortie/collection/
collection: $(INSTALLE)
	$(BIN)/python scripts/collection.py

nettoyer:
	-$(BIN)/ardoise labo arreter
	rm -rf $(VENV) sortie
