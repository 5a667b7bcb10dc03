# Placeholder targets; replaced by the full versions (fresh-machine bootstrap) shortly.
VENV := .venv
PY := $(VENV)/bin/python
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/opsconsole
export DATABASE_URL

.PHONY: test
test:
	DJANGO_SECRET_KEY=test-secret $(VENV)/bin/pytest -q
