# Two commands on a fresh clone: `make book` and `make test`.
# TORCH is what pip installs for PyTorch before the project. Default: whatever satisfies the
# project's floor (fine on a user's machine). On the project's CPU machines .ci/run sets
# TORCH=torch==2.13.0, the local CPU wheel (a bare `torch` there pulls a multi-GB CUDA build).
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch>=2.2
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install book test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH)"
	$(BIN)/python -m pip install -e ".[book,test]"
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going book/

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m amnet_edu.bench

clean:
	rm -rf book/_build
