# The two commands: `make run` (the whole service on an embedded database) and `make test`.
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY_SOURCES := api geo media moderation push tests bench migrations

.PHONY: run test deps web lint typecheck pytest bench fuzz clean

# --compile-bytecode: every process (workers, the media decoder's children, test subprocesses)
# starts in half the time when the packages are not compiled again at each import.
deps:
	@bash scripts/bootstrap.sh
	@$(UV) sync --frozen --quiet --compile-bytecode
	@$(MAKE) --no-print-directory web

# The staff console (web/, served at /console/): `npm ci` when node_modules is missing or older than
# the lock file, a build when a source is newer than web/dist.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/tsconfig.json web/scripts/weight.mjs

web: web/dist/index.html

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

run: deps
	$(UV) run phananh dev

test: deps lint typecheck pytest

lint:
	$(UV) run lint-imports
	$(UV) run ruff check $(PY_SOURCES)
	$(UV) run ruff format --check $(PY_SOURCES)

typecheck:
	$(UV) run mypy $(PY_SOURCES)

pytest:
	$(UV) run pytest

# Every benchmark in one go (each needs ../shared/data/wards or seeds its own data; see its docstring).
BENCHES := lookup submit export fanout upload screening blur tiles transparency overload

bench: deps
	@for b in $(BENCHES); do echo "== bench.$$b"; $(UV) run python -m bench.$$b --quick || exit 1; done

clean:
	rm -rf .data .venv .mypy_cache .pytest_cache .ruff_cache web/node_modules web/dist

# A longer schemathesis run than the one in `make test`: more examples per operation, and the
# coverage phase (boundary values of every parameter) on. FUZZ_EXAMPLES=N to change its length.
FUZZ_EXAMPLES ?= 25
fuzz: deps
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(UV) run pytest tests/core/test_schemathesis.py -q -s
