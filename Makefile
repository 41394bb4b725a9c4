# adsent: the two commands a new user needs are `make demo` (the main job) and `make test`.
# Both set everything up on first use (virtual env, pinned packages, Tesseract) and are fast after.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.adsent-installed

# Nothing is fetched from a model hub at run time; ultralytics keeps its settings in the project.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export YOLO_CONFIG_DIR ?= $(CURDIR)/.adsent/ultralytics

.PHONY: help demo test test-fast setup system-deps schemas docs lock clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

demo: setup system-deps  ## Run the main job: train (or reuse) the starter model, then ads through the pipeline
	$(BIN)/adsent train --starter
	$(BIN)/adsent demo --ads-jsonl training/data/adcorpus/test.jsonl --images-dir .adsent/adcorpus_images

test: setup system-deps  ## Run the whole test suite (what CI runs)
	$(BIN)/python -m pytest

test-fast: setup  ## Unit tests only: no slow, no broker
	$(BIN)/python -m pytest -m "not slow and not integration"

setup: $(STAMP)  ## Create the virtual env with the pinned packages (idempotent)

$(STAMP): pyproject.toml constraints.txt requirements-nodeps.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps -c constraints.txt -r requirements-nodeps.txt
	@touch $(STAMP)

# Debian packages the project needs: Tesseract (OCR), Prometheus (promtool and the server, for
# the deployment tests) and Chromium (headless, renders the `adsent explain` report in its test).
# Installed with apt-get when running as root; otherwise named.

system-deps:  ## Install Debian's tesseract-ocr, prometheus and chromium when missing (root), else say what to install
	@missing=""; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr tesseract-ocr-eng"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "error: missing Debian packages:$$missing" >&2; \
	    echo "       install them (sudo apt-get install$$missing), then run make again." >&2; \
	    exit 1; \
	  fi; \
	fi

schemas: setup  ## Re-export the committed JSON Schemas after changing schemas/
	$(BIN)/adsent schemas export schemas/json

docs: setup  ## Refresh the README's settings table from the settings object
	@$(BIN)/python -c "import re, pathlib; from streams.cli import settings_table; p = pathlib.Path('README.md'); \
	p.write_text(re.sub(r'(<!-- settings:start -->\n).*?(\n<!-- settings:end -->)', lambda m: m.group(1) + settings_table() + m.group(2), p.read_text(), flags=re.S))"

lock: setup  ## Regenerate constraints.txt from the current virtual env
	@(echo "# Exact versions for every install (pip install -c constraints.txt). Regenerate: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(facenet-pytorch|fer)==') > constraints.txt

clean:  ## Remove the virtual env and local state (broker data, caches)
	-$(BIN)/adsent broker down 2>/dev/null
	rm -rf $(VENV) .adsent .pytest_cache
