# The two commands a newcomer needs: `make demo` and `make test`. Each creates .venv if missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Without a terminal there is no one to type `yes`, so the demo approves on its own (and says so).
DEMO_FLAGS ?= $(if $(shell [ -t 0 ] && echo tty),,--auto-approve)

.PHONY: demo test lint typecheck unit clean report-checkers kafka-jars

# The report tests' real checkers: Mermaid's own parser (Node.js, tests/mermaid) and, in CI, headless
# Chromium (Debian's package). Without them those tests skip; a strict grammar and an HTML parser
# check the same reports on every run.
MERMAID := tests/mermaid/node_modules/.installed
$(MERMAID): tests/mermaid/package.json tests/mermaid/package-lock.json
	if command -v npm >/dev/null; then \
		(cd tests/mermaid && npm ci --no-audit --no-fund --silent && touch node_modules/.installed) \
		|| echo "npm could not install tests/mermaid: the Mermaid parser test will skip"; \
	else echo "npm not found: the Mermaid parser test will skip"; fi

report-checkers: $(MERMAID)
	if [ -n "$$CI" ] && ! command -v chromium >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will skip"; fi

# issue 22: Apache Kafka's broker jars (Maven Central, tests/kafka/pom.xml) for the tests that run one real
# broker per test run (tests/kafka_broker.py). Without java or mvn those tests skip with one line.
KAFKA_JARS := tests/kafka/lib/.fetched
$(KAFKA_JARS): tests/kafka/pom.xml
	if command -v mvn >/dev/null && command -v java >/dev/null; then \
		(rm -rf tests/kafka/lib && mvn -q -B -f tests/kafka/pom.xml dependency:copy-dependencies && touch $(KAFKA_JARS)) \
		|| echo "Maven could not fetch Kafka's jars: the real-Kafka tests will skip"; \
	else echo "java or mvn not found: the real-Kafka tests will skip"; fi

kafka-jars: $(KAFKA_JARS)

# uv resolves and installs the ~120 packages in seconds where pip takes minutes; pip stays in the venv
# (the packaging test builds a wheel with it) and installs everything itself if uv cannot be had.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv \
		&& $(BIN)/uv pip install --quiet --native-tls --python $(BIN)/python -e '.[sandbox,dev]' \
		|| $(BIN)/pip install --quiet --disable-pip-version-check -e '.[sandbox,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/remediate demo $(DEMO_FLAGS)

lint: $(STAMP)
	$(BIN)/ruff check remediate tests bench
	$(BIN)/ruff format --check remediate tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# In parallel (pytest-xdist), two workers per core: part of the suite's time is waiting (retry backoff
# under injected faults, ESM transitions, SSM's scaled step limits, lock races), which another worker's
# test fills; three per core measured slower on 2 cores (393 s against 375 s for a fresh clone's
# `make test`), the extra workers' start-up and contention costing more CPU than the waits they filled.
# Each worker has its own sandbox server. Bytecode goes to the venv even where PYTHONDONTWRITEBYTECODE is
# set (an empty value turns it off), so no worker compiles the same modules.
unit: $(STAMP) report-checkers kafka-jars
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(abspath $(VENV))/pycache \
		$(BIN)/pytest -n $$(( $$(nproc 2>/dev/null || echo 2) * 2 )) --dist worksteal

# What does not depend on each other runs side by side: the virtualenv's install beside the test helpers'
# (npm and Maven mostly wait on the network); then ruff (a second); then mypy beside the suite. mypy is
# one process on one core for some 12 s on a fresh clone (no cache): beside the suite, which keeps both
# cores busy, it costs about half that. Either failing fails `make test`.
test:
	$(MAKE) --no-print-directory -j3 $(STAMP) report-checkers kafka-jars
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory -j2 typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/mermaid/node_modules tests/kafka/lib
