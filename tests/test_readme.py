"""The README's code blocks work as written: its Python blocks run, its commands parse.

Python blocks run in the repository root, as a reader would paste them; a block that needs the
shared benchmark sequences is skipped, with a message, where they are absent. Shell blocks are not
run (they train and evaluate for hours): each ``amnet-edu ...``, ``python -m amnet_edu...`` and
``torchrun ... -m amnet_edu...`` command goes through its own argparse parser only, each
``make TARGET`` must name a Makefile target, and each ``pip install -c FILE`` an existing file.
"""
from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _blocks(lang: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [m.group(2) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)
            if m.group(1) == lang]


def _commands(block: str) -> list[list[str]]:
    """Each simple command of a shell block (comments dropped, ``&&`` and ``;`` split)."""
    out = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        cmd = []
        for w in words + ["&&"]:
            if w in ("&&", ";", "||"):
                if cmd:
                    out.append(cmd)
                cmd = []
            else:
                cmd.append(w)
    return out


PY_BLOCKS = _blocks("python")
SH_COMMANDS = [c for b in _blocks("bash") for c in _commands(b)]


def test_readme_has_blocks_to_check():
    assert PY_BLOCKS, "no ```python block in README.md"
    assert any(c[0] == "amnet-edu" for c in SH_COMMANDS), "no amnet-edu command in README.md"


def _needs_shared_data(code: str) -> bool:
    return any(s in code for s in ("shared/data", "AMNET_EDU_DATA", "shared_data_root"))


@pytest.mark.parametrize("code", PY_BLOCKS, ids=[f"python-block-{i + 1}" for i in range(len(PY_BLOCKS))])
def test_python_block_runs(code, monkeypatch):
    if _needs_shared_data(code):
        from amnet_edu.data import shared_data_root

        if shared_data_root() is None:
            pytest.skip("this README block reads the shared tracking sequences, which are absent: "
                        "set AMNET_EDU_DATA to run it")
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"{README.name} (python block)", "exec"), {"__name__": "__readme__"})


# --- shell blocks: parse only --------------------------------------------------------------

class _Parsed(Exception):
    def __init__(self, prog, namespace):
        super().__init__(prog)
        self.prog, self.namespace = prog, namespace


@pytest.fixture
def parse_only(monkeypatch):
    """argparse stops right after parsing: an entry point gets its arguments checked, runs nothing."""
    original = argparse.ArgumentParser.parse_args

    def parse_args(self, args=None, namespace=None):
        raise _Parsed(self.prog, original(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_args)

    def check(main, argv) -> _Parsed:
        try:
            main(argv)
        except _Parsed as parsed:
            return parsed
        except SystemExit as exc:  # argparse's error exit (status 2), with its message on stderr
            pytest.fail(f"{argv} does not parse (exit {exc.code})")
        pytest.fail(f"{argv}: the entry point returned without parsing its arguments")

    return check


def _module_main(name: str):
    mod = importlib.import_module(name)
    if not hasattr(mod, "main"):
        mod = importlib.import_module(name + ".__main__")
    return mod.main


def _ids(cmds):
    return [" ".join(c)[:60] for c in cmds]


AMNET_CMDS = [c for c in SH_COMMANDS if c[0] == "amnet-edu"]
MODULE_CMDS = [c for c in SH_COMMANDS if c[0] in ("python", "torchrun") and "-m" in c
               and c[c.index("-m") + 1].startswith("amnet_edu")]
MAKE_CMDS = [c for c in SH_COMMANDS if c[0] == "make"]
PIP_CMDS = [c for c in SH_COMMANDS if c[0] == "pip" and "-c" in c]


@pytest.mark.parametrize("cmd", AMNET_CMDS, ids=_ids(AMNET_CMDS))
def test_amnet_edu_command_parses(cmd, parse_only):
    from amnet_edu.cli import main

    parsed = parse_only(main, cmd[1:])
    assert parsed.prog == f"amnet-edu {cmd[1]}"
    ns = parsed.namespace
    if cmd[1] == "evaluate" and ns.sequences:
        # The command behind the README's table names its sequences: they must exist.
        data = (ROOT / ns.data).resolve()
        if not data.is_dir():
            pytest.skip(f"shared tracking data not found at {data}")
        missing = [s for s in ns.sequences if not (data / s).is_dir()]
        assert not missing, f"not in {data}: {missing}"


@pytest.mark.parametrize("cmd", MODULE_CMDS, ids=_ids(MODULE_CMDS))
def test_module_command_parses(cmd, parse_only):
    i = cmd.index("-m")
    if cmd[0] == "torchrun":
        from torch.distributed.run import get_args_parser

        with pytest.raises(_Parsed):
            get_args_parser().parse_args(cmd[1:])  # torchrun's own options, then the module's
    parse_only(_module_main(cmd[i + 1]), cmd[i + 2:])


@pytest.mark.parametrize("cmd", MAKE_CMDS, ids=_ids(MAKE_CMDS))
def test_make_targets_exist(cmd):
    targets = set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text(), re.M))
    for t in cmd[1:]:
        if "=" not in t and not t.startswith("-"):
            assert t in targets, f"make {t}: no such target in the Makefile"


@pytest.mark.parametrize("cmd", PIP_CMDS, ids=_ids(PIP_CMDS))
def test_pip_constraints_file_exists(cmd):
    path = ROOT / cmd[cmd.index("-c") + 1]
    assert path.is_file(), f"{path} missing"
