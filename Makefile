# make demo | make test | make bench — each creates .venv and installs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= data

export PREFECT_HOME ?= $(CURDIR)/$(DATA)/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90

.PHONY: setup demo test bench quality lint clean-data sample chromium readme

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# tests/test_report.py opens the HTML reports in headless Chromium: Debian's package, installed when
# missing and this user can (root, or sudo without a password); otherwise one line says how
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "make test: the report tests need Chromium; install it (Debian/Ubuntu: sudo apt-get install chromium) and rerun" >&2; \
	    exit 1; \
	  fi; }

DATELINE := $(BIN)/dateline --data-dir $(DATA)

demo: $(STAMP)
	$(DATELINE) run --warc data/sample/sample.warc.gz
	@echo; echo "== Articles per site and month (sql/articles_per_site_month.sql)"
	@$(DATELINE) query articles_per_site_month
	@echo; echo "== Quarantined pages by stage and reason (sql/quarantine_reasons.sql)"
	@$(DATELINE) query quarantine_reasons
	@echo; echo "== Agencies named by image credits (sql/credit_agencies.sql)"
	@$(DATELINE) query credit_agencies
	@echo; echo "== Most mentioned actors (dateline actors --top 10)"
	@$(DATELINE) actors --top 10
	@echo; echo "== Timeline: what happened with Putin, in date order (dateline timeline Putin)"
	@$(DATELINE) timeline Putin
	@echo; echo "== Example: the newest English articles (dateline sql \"...\")"
	@$(DATELINE) sql "select published_at, site_name, title from articles_current \
	  where language = 'en' order by published_at desc limit 8"

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/body_f1.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/nlp.py
	$(BIN)/python bench/incremental.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/duckdb_scale.py --articles 200000 --mentions 4000000 --output bench/results/duckdb_scale_200k.json
	$(BIN)/python bench/cluster_scale.py --events 500000
	$(BIN)/python bench/search.py --articles 100000

quality: $(STAMP)
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/nlp_quality.py
	$(BIN)/python bench/event_clusters.py

# mypy reads the package as it is installed, `dateline.flows` and so on: build/typecheck/dateline
# links to the top-level folders (the editable install maps them with an import hook mypy cannot follow)
lint: $(STAMP)
	$(BIN)/ruff check dateline flows transforms tests bench docs
	@mkdir -p build/typecheck/dateline
	@for d in flows transforms sql; do ln -sfn ../../../$$d build/typecheck/dateline/$$d; done
	@for f in __init__.py __main__.py py.typed; do ln -sfn ../../../dateline/$$f build/typecheck/dateline/$$f; done
	cd build/typecheck && ../../$(BIN)/mypy --strict -p dateline

# the README's examples and their output, from real runs (docs/readme.py; tests/test_readme.py checks)
readme: $(STAMP)
	rm -rf build/readme
	DATELINE_README_DATA=build/readme $(BIN)/cog -r -I docs -p "import readme" README.md

sample: $(STAMP)
	$(BIN)/python bench/build_sample.py

clean-data:
	rm -rf $(DATA)/raw/2* $(DATA)/raw/raw_index $(DATA)/processed/* $(DATA)/prefect
