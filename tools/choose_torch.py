"""Which PyTorch build ``make install`` asks pip for: prints pip's arguments on one line.

Run with the Python that will get PyTorch (the venv's): ``.venv/bin/python tools/choose_torch.py``.
The Makefile installs what it prints, before the project. The rule, first match wins:

1. ``$TORCH`` set (``make install TORCH=...``): exactly that, e.g. ``torch==2.4.1`` or
   ``torch --index-url https://download.pytorch.org/whl/cu121``.
2. An NVIDIA GPU (``nvidia-smi -L`` lists one): PyPI's default build, a CUDA one on Linux.
3. A local CPU wheel (``torch-X+cpu-...whl``) in one of pip's ``find-links`` folders that fits this
   Python and platform, and the floor of pyproject.toml: that version (the project's CPU machines
   keep one on disk; there a bare ``torch`` pulls a multi-GB CUDA build).
4. Linux or Windows without a GPU: PyTorch's CPU wheels from its CPU index (about 200 MB instead
   of several GB of CUDA libraries nobody would use).
5. Otherwise (macOS): PyPI's build, which is the CPU/MPS one there.

What it saw goes to stderr. ``--explain`` prints that too, without choosing anything else.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FLOOR = "torch>=2.2"


def torch_requirement(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The project's own torch requirement (``torch>=2.2``), read from pyproject.toml."""
    try:
        m = re.search(r'["\'](torch\s*[<>=!~][^"\']*)["\']', pyproject.read_text())
    except OSError:
        m = None
    return m.group(1).replace(" ", "") if m else DEFAULT_FLOOR


def has_nvidia_gpu(which=shutil.which, run=subprocess.run) -> bool:
    """True when ``nvidia-smi`` exists and lists at least one GPU (a driver alone is not enough)."""
    exe = which("nvidia-smi")
    if not exe:
        return False
    try:
        res = run([exe, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0 and "GPU" in res.stdout


def pip_find_links(env=os.environ, run=subprocess.run) -> list[str]:
    """The ``find-links`` locations pip uses here: ``$PIP_FIND_LINKS`` and pip's config files."""
    links = env.get("PIP_FIND_LINKS", "").split()
    try:
        res = run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                  timeout=60, env=dict(env, PIP_DISABLE_PIP_VERSION_CHECK="1"))
        out = res.stdout if res.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith(".find-links"):
            links += value.strip().strip("'\"").split()
    return list(dict.fromkeys(links))


def local_dirs(links) -> list[Path]:
    """The local folders among find-links entries (plain paths or file:// URLs)."""
    out = []
    for link in links:
        if link.startswith("file:"):
            link = unquote(urlparse(link).path)
        elif "://" in link:
            continue
        p = Path(link)
        if p.is_dir():
            out.append(p)
    return out


def supported_tags() -> set[tuple[str, str, str]]:
    """(interpreter, abi, platform) triples this Python installs, as pip sees them."""
    try:
        from packaging.tags import sys_tags
    except ImportError:
        from pip._vendor.packaging.tags import sys_tags
    return {(t.interpreter, t.abi, t.platform) for t in sys_tags()}


def _version_tools():
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version
    except ImportError:
        from pip._vendor.packaging.specifiers import SpecifierSet
        from pip._vendor.packaging.version import Version
    return SpecifierSet, Version


def cpu_wheels(dirs, tags, requirement: str = DEFAULT_FLOOR) -> list[tuple[str, Path]]:
    """Local ``torch-*+cpu*`` wheels that fit ``tags`` and ``requirement``: (version, path), newest first."""
    SpecifierSet, Version = _version_tools()
    spec = SpecifierSet(requirement[len("torch"):])
    found = []
    for d in dirs:
        for f in sorted(Path(d).glob("torch-*.whl")):
            parts = f.name[:-4].split("-")
            if len(parts) not in (5, 6) or parts[0] != "torch":
                continue
            version, (py, abi, plat) = parts[1], parts[-3:]
            if "+cpu" not in version:
                continue
            fits = any((i, a, p) in tags for i in py.split(".") for a in abi.split(".")
                       for p in plat.split("."))
            if fits and spec.contains(Version(version), prereleases=True):
                found.append((version, f))
    return sorted(found, key=lambda vf: Version(vf[0]), reverse=True)


def choose(env, nvidia: bool, wheels, system: str, requirement: str = DEFAULT_FLOOR):
    """pip arguments for PyTorch and why: (args, reason). Pure: the inputs say what the machine has."""
    if env.get("TORCH", "").strip():
        return shlex.split(env["TORCH"]), "TORCH is set"
    if nvidia:
        return [requirement], "nvidia-smi lists a GPU: PyPI's default (CUDA) build"
    if wheels:
        version, path = wheels[0]
        return [f"torch=={version}"], f"no NVIDIA GPU; local CPU wheel {path}"
    if system in ("linux", "win32"):
        return ["--index-url", CPU_INDEX, requirement], "no NVIDIA GPU: PyTorch's CPU wheels"
    return [requirement], f"no NVIDIA GPU on {system}: PyPI's build is the CPU one"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    requirement = torch_requirement()
    nvidia = has_nvidia_gpu()
    wheels = [] if nvidia else cpu_wheels(local_dirs(pip_find_links()), supported_tags(), requirement)
    args, reason = choose(os.environ, nvidia, wheels, sys.platform, requirement)
    print(f"choose_torch: {reason} -> pip install {' '.join(args)}", file=sys.stderr)
    if "--explain" not in argv:
        print(" ".join(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
