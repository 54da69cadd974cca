# tcma: `make demo` runs the main job on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The embedded default: SQLite under instance/, files under instance/, jobs in-process.
EMBEDDED := env -u TCMA_DATABASE_URL -u TCMA_REDIS_URL -u TCMA_STORAGE

.PHONY: install fonts browsers axe demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) fonts

# Noto fonts for Arabic, Hebrew, CJK and emoji (OFL) and Droid Sans Fallback (TrueType CJK for
# PDFs), from Debian's packages: the renderers find them under /usr/share/fonts, never download.
FONT_PACKAGES := fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji fonts-droid-fallback
fonts:
	@dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(FONT_PACKAGES); } || echo "complex scripts need: apt-get install $(FONT_PACKAGES)"

demo: $(STAMP) fonts
	$(EMBEDDED) $(BIN)/tcma db upgrade
	$(EMBEDDED) $(BIN)/tcma demo

# The portal's browser test drives Debian's Chromium (never a Playwright browser download).
browsers:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium chromium-driver)

# axe-core (MPL-2.0), from the npm registry into .axe/: the dashboard and builder browser tests
# inject its axe.min.js into the page to check accessibility.
AXE := .axe/node_modules/axe-core/axe.min.js
$(AXE):
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	npm install --no-save --no-audit --no-fund --prefix .axe axe-core@4.14.1

axe: $(AXE)

# The suite on TEST_WORKERS processes (pytest-xdist): each worker has its own PostgreSQL database
# and Redis db, so runs and workers never see each other's data.
TEST_WORKERS ?= 2
test: $(STAMP) fonts browsers $(AXE)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } || echo "bench_redirect needs wrk: apt-get install wrk"
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache bench/results.d .axe

# Mutation score of renderers/ and campaigns/ against tests/renderers and tests/campaigns
# (about 4,600 mutants: 29 minutes on two busy cores; never part of `make test`).
.PHONY: mutation
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet 'mutmut>=3.8,<4'
	$(BIN)/python bench/mutation.py
