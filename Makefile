# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install conformance bench examples roundtrip fuzz clean

# setup.py and the C sources: a changed C module is rebuilt before the tests run.
$(STAMP): pyproject.toml setup.py $(wildcard bibsmith/_fast*.c)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q bibsmith
	touch $(STAMP)

install: $(STAMP)

## The main job: every format from the sample profile in data/ into out/.
run: $(STAMP)
	$(BIN)/bibsmith export data/*.txt --dir out

## Regenerate examples/*/out from each example input (then read the diff).
examples: $(STAMP)
	for dir in examples/*/; do rm -rf $$dir/out; $(BIN)/bibsmith export $$dir/input.* --dir $$dir/out > /dev/null; done

## The whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest

## Hostile inputs through every reader and writer for MINUTES minutes (tests/fuzz/fuzz.py; `make test`
## runs it for 40 s): counts tracebacks and fast/C vs simple/Python mismatches, exit 1 if any.
MINUTES ?= 10
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/fuzz.py --minutes $(MINUTES)

## Score our readers (and formatted output) against the peers' cases in ../shared/conformance.
conformance: $(STAMP)
	$(BIN)/python scripts/conformance.py

## .bib -> BibLaTeX/BibTeX -> .bib as biber reads it: keys, types and fields kept (not part of the tests).
roundtrip: $(STAMP)
	$(BIN)/python scripts/roundtrip.py

## Benchmarks against the peers (not part of the tests).
bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis build *.egg-info .roundtrip
	rm -f bibsmith/_fast*.so
