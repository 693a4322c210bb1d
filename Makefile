# The two commands: `make serve` starts Kasse, `make test` runs every check. Both set themselves up.
# `make bench` (QUICK=1 for the under-a-minute mode) runs the benchmark suite; see bench/README.md.
.PHONY: serve test lint bootstrap worker bench

serve: bootstrap
	.venv/bin/kasse serve

test:
	bash scripts/test.sh

lint: bootstrap
	.venv/bin/ruff check src tests && .venv/bin/ruff format --check src tests && .venv/bin/mypy

bootstrap:
	bash scripts/bootstrap.sh

worker: bootstrap
	.venv/bin/kasse worker

bench: bootstrap
	QUICK=$(QUICK) bash scripts/bench.sh
