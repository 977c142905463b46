#################################################################################
# ckm-research: `make help` lists the targets.                                  #
#################################################################################

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
VENV_PY := $(VENV)/bin/python
# Touched once the project is installed in $(VENV); remade when pyproject.toml changes.
STAMP := $(VENV)/.ckm-installed
KERNEL_NAME := ckm-research
KERNEL_DISPLAY := Python (ckm-research)

MODEL ?= ckm_research/models/ckm_study.lav
EXAMPLE_DATA ?= data/example/ckm_example.csv
REPORT_DIR ?= reports/ckm-study
PYTEST_ARGS ?=

#################################################################################
# Setup                                                                         #
#################################################################################

$(VENV_PY):
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed. On Debian/Ubuntu: apt-get install python3-venv" >&2; \
	  exit 1; }

$(STAMP): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install --quiet --upgrade pip
	$(VENV_PY) -m pip install --progress-bar off -e '.[dev,cluster]'
	$(VENV_PY) -m ipykernel install --sys-prefix --name $(KERNEL_NAME) --display-name "$(KERNEL_DISPLAY)"
	@touch $@

.PHONY: setup
setup: $(STAMP) cjk-font ## Create .venv, install the project (with dev tools) and register its Jupyter kernel

# The Chinese report (ckm run -p language zh) draws its figures with a font that has Chinese
# characters; without one, Debian's small fonts-wqy-microhei is installed where apt-get exists
# (as .ci/run does), else the report says the figures keep their English labels.
.PHONY: cjk-font
cjk-font: ## Install a font with Chinese characters for the figures of the zh report (Debian)
	@if command -v fc-list >/dev/null 2>&1 && [ -n "$$(fc-list :lang=zh family)" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  sudo=""; if [ "$$(id -u)" -ne 0 ]; then sudo="sudo"; fi; \
	  echo "Installing fonts-wqy-microhei (Chinese characters in the figures of the zh report)"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq fonts-wqy-microhei \
	    || echo "warning: could not install fonts-wqy-microhei; the zh report's figures keep English labels" >&2; \
	else \
	  echo "warning: no font with Chinese characters and no apt-get: install one (e.g. WenQuanYi Micro Hei, Noto Sans CJK) for the zh report's figures" >&2; \
	fi

# The report's path diagram is drawn by Graphviz's dot; without it, Debian's graphviz is
# installed where apt-get exists (as .ci/run does), else the report says the diagram is missing.
.PHONY: graphviz
graphviz: ## Install Graphviz (dot) for the report's path diagram (Debian)
	@if command -v dot >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  sudo=""; if [ "$$(id -u)" -ne 0 ]; then sudo="sudo"; fi; \
	  echo "Installing graphviz (the path diagram of the report)"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq graphviz \
	    || echo "warning: could not install graphviz; the report names the path diagram as not available" >&2; \
	else \
	  echo "warning: no Graphviz (dot) and no apt-get: install Graphviz for the report's path diagram" >&2; \
	fi

#################################################################################
# Main commands                                                                 #
#################################################################################

.PHONY: report
report: $(STAMP) cjk-font graphviz ## Set up, then run the main job: the whole CKM study (ckm run) into $(REPORT_DIR)
	@test -f "$(EXAMPLE_DATA)" || { \
	  echo "error: the example data $(EXAMPLE_DATA) does not exist yet." >&2; \
	  echo "       It is produced by the project's data simulation (not available in this checkout);" >&2; \
	  echo "       to fit your own survey instead: make report EXAMPLE_DATA=path/to/data.csv MODEL=path/to/model.lav" >&2; \
	  exit 1; }
	$(VENV)/bin/ckm run -p data_file "$(EXAMPLE_DATA)" -p model "$(MODEL)" --output "$(REPORT_DIR)"

.PHONY: lab
lab: $(STAMP) ## Set up, then open the notebooks in JupyterLab with the project kernel
	$(VENV)/bin/jupyter lab notebooks/

.PHONY: test
test: $(STAMP) ## Set up, then run the test suite
	$(VENV_PY) -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: $(STAMP) ## Check the code with ruff
	$(VENV)/bin/ruff check .

.PHONY: bench
bench: $(STAMP) ## Run the speed benchmarks (benchmarks/run.py)
	@test -f benchmarks/run.py || { echo "error: benchmarks/run.py does not exist yet." >&2; exit 1; }
	$(VENV_PY) benchmarks/run.py

#################################################################################
# Housekeeping                                                                  #
#################################################################################

.PHONY: clean
clean: ## Delete caches and build files (keeps .venv and reports/)
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info

.PHONY: distclean
distclean: clean ## Also delete .venv (the next make test/report reinstalls)
	rm -rf $(VENV)

.PHONY: help
help: ## Show this help
	@echo "ckm-research: make TARGET"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'
