"""Device choice and the CPU allocator setting."""
import os
import subprocess
import sys

import pytest
import torch

from amnet_edu.device import default_device, default_profile


def test_default_device_honours_a_preference_and_picks_a_profile():
    assert default_device("cpu") == torch.device("cpu")
    assert default_device(torch.device("cpu")) == torch.device("cpu")
    assert default_profile("cpu") == "cpu"
    assert default_profile("cuda") == "paper"
    if not torch.cuda.is_available():
        assert default_device().type in ("cpu", "mps")


def _keep_freed_memory_in_subprocess(env_value):
    env = dict(os.environ)
    if env_value is None:
        env.pop("AMNET_EDU_KEEP_FREED_MEMORY", None)
    else:
        env["AMNET_EDU_KEEP_FREED_MEMORY"] = env_value
    code = "from amnet_edu.device import keep_freed_memory as k; print(k(), k())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_keep_freed_memory_applies_once_and_can_be_switched_off():
    import platform

    # A fresh process each time: the setting is process-wide and cannot be undone.
    if platform.libc_ver()[0] == "glibc":
        assert _keep_freed_memory_in_subprocess(None) == ["True", "True"]   # idempotent
    assert _keep_freed_memory_in_subprocess("0") == ["False", "False"]
