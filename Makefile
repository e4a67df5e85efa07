# ResNet, Interactively: every command bootstraps its own virtual environment in .venv.
#   make book       build the website into _build/html
#   make test       lint, unit tests, nbval (strict), strict book build, browser check
# Run `make help` for the rest.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3 || echo python3.11)
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TOOLS := $(VENV)/.installed-tools
# Empty: the browser checks find one (tools/browser.py): the system's Chromium, else Playwright's.
CHROMIUM ?=
PORT ?= 8000
# Chapters that nbval runs at once: two use both cores of a 2-core machine (make benchmark-notebooks
# runs them one at a time, as a reader does).
NBVAL_JOBS ?= 2
# VENV may be relative to this folder or absolute.
VENV_PATH := $(abspath $(VENV))
# The venv's kernel first, whatever kernels the user has registered.
export JUPYTER_PATH := $(VENV_PATH)/share/jupyter
export PYTHONDONTWRITEBYTECODE := 1
# Keras, matplotlib, IPython and Jupyter keep their files in .venv/var, not in your home.
STATE := $(VENV_PATH)/var
export KERAS_HOME := $(STATE)/keras
export MPLCONFIGDIR := $(STATE)/matplotlib
export IPYTHONDIR := $(STATE)/ipython
export JUPYTER_RUNTIME_DIR := $(STATE)/jupyter-runtime
# Another processor, simulated on this one: NumPy restricted to its baseline instructions (every
# SIMD extension it dispatches to switched off) and TensorFlow without oneDNN. Stored outputs
# must not change.
FOREIGN_CPU = NPY_DISABLE_CPU_FEATURES="$$($(BIN)/python -c 'from numpy._core._multiarray_umath \
  import __cpu_dispatch__ as d; print(" ".join(d))')" TF_ENABLE_ONEDNN_OPTS=0
# What depends on float rounding and runs fast enough to run twice: the gradient-flow engine's
# and the explorer's unit tests, the chapters computed with NumPy,
# and the quick TensorFlow chapters. The slow ones (5, 7, 9) assert what they train rather than
# store it. Chapter 12 reads its trained run from results/ (a deep plain network's trained
# kernels differ between processors) and measures networks at initialisation live.
FOREIGN_UNIT := tests/test_gradflow.py tests/test_explorer.py
FOREIGN_CHAPTERS := chapters/01-why-depth-is-hard.ipynb chapters/02-core-idea.ipynb \
  chapters/03-algorithm.ipynb chapters/04-mathematics.ipynb chapters/06-gradient-flow.ipynb \
  chapters/08-deeper-blocks.ipynb chapters/10-beyond-images.ipynb \
  chapters/11-why-residual-networks-work.ipynb chapters/12-why-plain-networks-degrade.ipynb \
  chapters/13-training-at-scale.ipynb
AS_FOREIGN := $(foreach chapter,$(FOREIGN_CHAPTERS),--foreign-cpu $(chapter))

.PHONY: help install install-tools book book-strict serve lab notebooks results \
        benchmark benchmark-notebooks benchmark-suite benchmark-browser benchmark-train train lint unit slow nbval \
        foreign-cpu foreign-unit slow-and-foreign-unit chapters-check browser-checks website-check site-check lab-check test \
        lock check-lock vendor clean

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt pyproject.toml
	@if ! "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then \
	  echo "error: the book needs Python 3.11, and '$(PYTHON)' is not it." >&2; \
	  echo "  Install Python 3.11 (python.org, 'pyenv install 3.11', or your system's python3.11" >&2; \
	  echo "  package), then run this again, or point to it: make PYTHON=/path/to/python3.11 ..." >&2; \
	  exit 1; fi
	"$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r requirements.txt || { \
	  echo "error: installing requirements.txt failed (see pip's message above)." >&2; \
	  echo "  Check your connection to PyPI, then run the command again." >&2; exit 1; }
	@# TensorFlow's C++ headers serve only to compile extensions against it, which the book never
	@# does: 0.3 GB of the environment.
	$(BIN)/python -c 'import importlib.util, pathlib, shutil; shutil.rmtree(pathlib.Path( \
	  importlib.util.find_spec("tensorflow").submodule_search_locations[0], "include"), True)'
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# The chapters' prose shows values stored with it (tools/lab_markup.py); jupyterlab-myst's
	@# executor would re-evaluate them in the kernel whenever a Markdown cell runs.
	$(BIN)/jupyter labextension disable --level=sys_prefix jupyterlab-myst:executor >/dev/null 2>&1
	@rm -f $(TOOLS)
	@touch $@
	@echo "Installed into $(VENV) ($$(du -sh $(VENV) | cut -f1))."

$(TOOLS): $(INSTALLED) requirements-dev.txt
	@$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt || { \
	  echo "error: installing requirements-dev.txt failed (see pip's message above)." >&2; \
	  echo "  Check your connection to PyPI, then run the command again." >&2; exit 1; }
	@touch $@
	@echo "Installed the test tools into $(VENV) ($$(du -sh $(VENV) | cut -f1))."

install: $(INSTALLED) ## create .venv with the book's pinned requirements and its package

install-tools: $(TOOLS) ## add the pinned test and maintenance tools (make test does)

# The Chinese edition (zh/) is a book of its own, built beside the English one and copied into
# its website under zh/, so that one website holds both and each page links to its twin.
define copy_chinese_edition
	rm -rf _build/html/zh
	cp -r _build/zh/_build/html _build/html/zh
endef

book: $(INSTALLED) ## build the website, English and Chinese, into _build/html from the stored outputs
	$(BIN)/jupyter-book build .
	$(BIN)/jupyter-book build zh --path-output _build/zh
	$(copy_chinese_edition)
	@echo "The book is in _build/html: open _build/html/index.html (Chinese: _build/html/zh/index.html), or run 'make serve'."

book-strict: $(INSTALLED) ## rebuild the website (both editions) from scratch, failing on any warning
	rm -rf _build/html _build/.doctrees _build/zh
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/jupyter-book build zh --path-output _build/zh -W -n --keep-going
	$(copy_chinese_edition)

serve: ## serve the built website on http://127.0.0.1:$(PORT)
	@test -f _build/html/index.html || { echo "error: no website yet; run 'make book' first." >&2; exit 1; }
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

lab: $(INSTALLED) ## open the book in JupyterLab, at chapter 1
	$(BIN)/jupyter lab chapters/01-why-depth-is-hard.ipynb

notebooks: $(INSTALLED) ## re-execute every chapter in place from a fresh kernel
	$(BIN)/python tools/execute_notebooks.py

results: $(INSTALLED) ## re-run the long experiments into results/ (about 85 minutes on 2 idle AMD EPYC cores; 3 hours and 15 minutes on 2 cores of an Intel Xeon shared with other work, December 2026)
	$(BIN)/python experiments/initialisation.py
	$(BIN)/python experiments/degradation.py
	$(BIN)/python experiments/blocks.py
	$(BIN)/python experiments/kernels.py
	$(BIN)/python experiments/kernels.py --as-other-processor
	$(BIN)/python experiments/trained.py
	$(BIN)/python experiments/lesion.py
	$(BIN)/python experiments/landscape.py
	$(BIN)/python experiments/normalisation.py
	$(BIN)/python experiments/tabular.py
	$(BIN)/python experiments/signals.py --jobs 1

benchmark: $(INSTALLED) ## time the gradient-flow computation and a whole explorer update
	$(BIN)/python benchmarks/gradflow.py

train: $(INSTALLED) ## train a CIFAR-10 network with the paper's recipe (on the CPU: the environment pins tensorflow-cpu): make train ARGS="--depth 20 --data digits --epochs 2"
	$(BIN)/python -m resnet_book.train $(ARGS)

benchmark-train: $(INSTALLED) ## images per second of the training tool: its input pipeline alone, ResNet-20/56/110 at batch 128 in float32, mixed bfloat16 and with XLA, into results/throughput.json (chapter 13 reads all three)
	$(BIN)/python benchmarks/train_throughput.py --switches float32 mixed_bfloat16 jit --out results/throughput.json

benchmark-notebooks: $(TOOLS) ## nbval on every chapter, failing on the time and memory budgets
	$(BIN)/python benchmarks/notebooks.py --enforce-budgets

benchmark-suite: $(TOOLS) ## time every stage of make test, failing when it or make unit is over budget (8 min, 60 s)
	$(BIN)/python benchmarks/suite.py --enforce-budgets

benchmark-browser: $(TOOLS) ## time the live explorer in Chromium: on the website (make book first), then in JupyterLab
	chromium="$$(CHROMIUM="$(CHROMIUM)" $(BIN)/python tools/browser.py)"; \
	  CHROMIUM="$$chromium" $(BIN)/python benchmarks/explorer_website.py && \
	  CHROMIUM="$$chromium" $(BIN)/python benchmarks/explorer_browser.py

lint: $(TOOLS) ## ruff: lint and formatting of src/, tests/ and the tools
	$(BIN)/ruff check src tests tools benchmarks experiments _ext
	$(BIN)/ruff format --check src tests tools benchmarks experiments _ext chapters zh/chapters

unit: $(TOOLS) ## unit tests of src/ and of the repository's set-up, two processes, the slowest ten listed
	$(BIN)/python -m pytest tests -m "not slow" -n 2 --dist loadfile --durations=10

slow: $(TOOLS) ## the slow tests: a training job on two worker processes, killed and resumed; SIGTERM and resume; the speed switches
	$(BIN)/python -m pytest tests -m slow --durations=5

nbval: $(TOOLS) ## nbval (strict) on every chapter, two at a time, with time and peak memory (the memory budget enforced in CI)
	$(BIN)/python benchmarks/notebooks.py --jobs $(NBVAL_JOBS) $(if $(CI),--enforce-memory)

foreign-cpu: foreign-unit ## the float-sensitive tests and chapters again, as on another processor
	$(BIN)/python benchmarks/notebooks.py --jobs $(NBVAL_JOBS) $(AS_FOREIGN) $(FOREIGN_CHAPTERS)

foreign-unit: $(TOOLS) ## the float-sensitive unit tests, as on another processor
	$(FOREIGN_CPU) $(BIN)/python -m pytest -q $(FOREIGN_UNIT)

# make test runs each chapter once. The stored outputs are this processor's (make notebooks), so
# running the float-sensitive chapters as on another processor checks both; the rest run natively.
# In CI a chapter over the memory budget fails; one over the time budget is reported (a slower
# machine must not fail for being slow, DESIGN.md): make benchmark-notebooks enforces both.
chapters-check: $(TOOLS) ## nbval (strict) on every chapter once, the float-sensitive ones as on another processor
	$(BIN)/python benchmarks/notebooks.py --jobs $(NBVAL_JOBS) $(if $(CI),--enforce-memory) $(AS_FOREIGN)

site-check: $(TOOLS) ## open every built page in Chromium: no errors, no failed requests
	@test -f _build/html/index.html || { echo "error: no website yet; run 'make book-strict'." >&2; exit 1; }
	chromium="$$(CHROMIUM="$(CHROMIUM)" $(BIN)/python tools/browser.py)"; \
	  CHROMIUM="$$chromium" $(BIN)/python -m pytest tests/site -n 2 --dist loadgroup

lab-check: $(TOOLS) ## open every chapter in JupyterLab (Chromium): no raw markup, every stored value shown
	chromium="$$(CHROMIUM="$(CHROMIUM)" $(BIN)/python tools/browser.py)"; \
	  CHROMIUM="$$chromium" $(BIN)/python -m pytest tests/lab -n 2

# The browser checks spend much of their time waiting on the browser: on 2 cores the JupyterLab
# check runs beside the strict build and the website check, each target's output printed whole.
browser-checks: $(TOOLS) ## the strict build and website check, beside the JupyterLab check
	$(MAKE) --no-print-directory -j2 --output-sync=target website-check lab-check

website-check: book-strict ## rebuild the website strictly, then open every page in Chromium
	$(MAKE) --no-print-directory site-check

# The slow tests and the float-sensitive unit tests leave a core idle each: they run side by side.
slow-and-foreign-unit: $(TOOLS) ## the slow tests beside the float-sensitive unit tests, as make test runs them
	$(MAKE) --no-print-directory -j2 --output-sync=target slow foreign-unit

test: lint unit slow-and-foreign-unit chapters-check browser-checks ## everything CI runs
	@echo "All checks passed."

lock: $(TOOLS) ## re-pin requirements.txt (and binder/) and requirements-dev.txt from the .in files
	$(BIN)/uv pip compile requirements.in --universal --python-version 3.11 --quiet \
	  --custom-compile-command "make lock" -o requirements.txt
	$(BIN)/uv pip compile requirements-dev.in --universal --python-version 3.11 --quiet \
	  --custom-compile-command "make lock" -o requirements-dev.txt
	cp requirements.txt binder/requirements.txt

check-lock: $(TOOLS) ## check both pin files resolve to wheels on every platform
	for platform in x86_64-manylinux_2_28 aarch64-manylinux_2_28 aarch64-apple-darwin \
	    x86_64-pc-windows-msvc; do \
	  echo "== $$platform"; \
	  $(BIN)/uv pip compile requirements.txt requirements-dev.txt --python-version 3.11 \
	    --python-platform $$platform --only-binary :all: --quiet -o /dev/null; done

vendor: ## refresh vendor/ (MathJax) from the npm registry
	tools/vendor.sh

clean: ## remove the website build (keeps .venv)
	rm -rf _build
