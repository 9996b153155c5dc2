"""tools/choose_torch.py: which PyTorch build `make install` asks pip for, without any network."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "choose_torch.py"
_spec = importlib.util.spec_from_file_location("choose_torch", SCRIPT)
ct = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ct)

TAGS = {("cp311", "cp311", "manylinux_2_28_x86_64"), ("cp311", "cp311", "linux_x86_64")}
CPU_WHEEL = "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"


def _wheels(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"")
    return folder


def test_torch_override_wins_and_is_split_into_pip_arguments():
    args, why = ct.choose({"TORCH": "torch==2.4.1 --index-url https://example.invalid/cu121"},
                          nvidia=False, wheels=[("2.13.0+cpu", Path("w.whl"))], system="linux")
    assert args == ["torch==2.4.1", "--index-url", "https://example.invalid/cu121"]
    assert "TORCH" in why


def test_gpu_gets_pypi_default_build():
    args, _ = ct.choose({}, nvidia=True, wheels=[("2.13.0+cpu", Path("w.whl"))], system="linux",
                        requirement="torch>=2.2")
    assert args == ["torch>=2.2"]


def test_no_gpu_prefers_the_local_cpu_wheel_then_the_cpu_index():
    args, why = ct.choose({"TORCH": ""}, nvidia=False, wheels=[("2.13.0+cpu", Path("/w/x.whl"))],
                          system="linux")
    assert args == ["torch==2.13.0+cpu"] and "/w/x.whl" in why
    args, _ = ct.choose({}, nvidia=False, wheels=[], system="linux", requirement="torch>=2.2")
    assert args == ["--index-url", "https://download.pytorch.org/whl/cpu", "torch>=2.2"]
    assert ct.choose({}, nvidia=False, wheels=[], system="darwin")[0] == [ct.DEFAULT_FLOOR]


def test_cpu_wheels_match_python_platform_and_floor(tmp_path):
    d = _wheels(tmp_path / "w", CPU_WHEEL,
                "torch-2.14.1-cp311-cp311-manylinux_2_28_x86_64.whl",           # CUDA build: no
                "torch-2.15.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",       # other Python
                "torch-2.15.0+cpu-cp311-cp311-manylinux_2_28_aarch64.whl",      # other machine
                "torch-2.1.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",        # below the floor
                "torchvision-0.28.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
    found = ct.cpu_wheels([d], TAGS, "torch>=2.2")
    assert [v for v, _ in found] == ["2.13.0+cpu"]
    _wheels(d, "torch-2.14.0+cpu-cp311-cp311-linux_x86_64.whl")
    assert [v for v, _ in ct.cpu_wheels([d], TAGS, "torch>=2.2")] == ["2.14.0+cpu", "2.13.0+cpu"]
    assert ct.cpu_wheels([d], TAGS, "torch>=2.2,<2.14") == [("2.13.0+cpu", d / CPU_WHEEL)]


def test_find_links_from_environment_and_pip_config(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()

    def fake_pip(cmd, **kw):
        assert cmd[-2:] == ["config", "list"]
        out = f"global.find-links='{b} https://example.invalid/links'\n:env:.find-links='{a}'\nglobal.cert='/x'\n"
        return subprocess.CompletedProcess(cmd, 0, out, "")

    links = ct.pip_find_links({"PIP_FIND_LINKS": str(a)}, run=fake_pip)
    assert links == [str(a), str(b), "https://example.invalid/links"]
    assert ct.local_dirs(links + [b.as_uri(), str(tmp_path / "missing")]) == [a, b, b]


def test_nvidia_smi_must_list_a_gpu():
    def run(out, rc=0):
        return lambda cmd, **kw: subprocess.CompletedProcess(cmd, rc, out, "")

    assert not ct.has_nvidia_gpu(which=lambda name: None)
    smi = lambda name: "/usr/bin/nvidia-smi"  # noqa: E731
    assert ct.has_nvidia_gpu(which=smi, run=run("GPU 0: NVIDIA H200 (UUID: GPU-1)\n"))
    assert not ct.has_nvidia_gpu(which=smi, run=run("", rc=9))   # driver without a device
    assert not ct.has_nvidia_gpu(which=smi, run=run("No devices were found\n"))


def test_torch_requirement_is_read_from_pyproject(tmp_path):
    assert ct.torch_requirement() == "torch>=2.2"
    (tmp_path / "pyproject.toml").write_text('dependencies = ["numpy", "torch >= 2.4, <3"]\n')
    assert ct.torch_requirement(tmp_path / "pyproject.toml") == "torch>=2.4,<3"
    assert ct.torch_requirement(tmp_path / "none.toml") == ct.DEFAULT_FLOOR


def _run_script(tmp_path, path_dirs, links="", torch=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "TORCH"}
    env.update(PATH=os.pathsep.join(map(str, path_dirs)), PIP_CONFIG_FILE=os.devnull,
               PIP_FIND_LINKS=links)
    if torch is not None:
        env["TORCH"] = torch
    res = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip(), res.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a fake nvidia-smi shell script")
def test_script_end_to_end(tmp_path):
    bin_dir, empty = tmp_path / "bin", tmp_path / "empty"
    bin_dir.mkdir(), empty.mkdir()
    out, err = _run_script(tmp_path, [empty])
    assert out == f"--index-url {ct.CPU_INDEX} torch>=2.2" and "CPU wheels" in err
    tag = sorted(ct.supported_tags())[0]
    name = f"torch-2.13.0+cpu-{tag[0]}-{tag[1]}-{tag[2]}.whl"
    wheels = _wheels(tmp_path / "wheels", name)
    out, err = _run_script(tmp_path, [empty], links=wheels.as_uri())
    assert out == "torch==2.13.0+cpu" and name in err
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200 (UUID: GPU-0)'\n")
    smi.chmod(0o755)
    assert _run_script(tmp_path, [bin_dir], links=str(wheels))[0] == "torch>=2.2"
    assert _run_script(tmp_path, [bin_dir], torch="torch==2.4.1")[0] == "torch==2.4.1"
