# The two commands: `make serve` starts Kasse, `make test` runs every check. Both set themselves up.
.PHONY: serve test lint bootstrap worker

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
