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


_PROBE = """
import os, numpy as np
from amnet_edu.device import keep_freed_memory
applied, again = keep_freed_memory(), keep_freed_memory()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
block = np.ones(16_000_000)  # 128 MB, written: resident
before = rss()
del block
print(applied, again, (before - rss()) >> 20)
"""


def _free_128mb_in_subprocess(env_value):
    """(applied, applied again, MiB handed back to the OS when a 128 MB block is freed)."""
    env = dict(os.environ)
    if env_value is None:
        env.pop("AMNET_EDU_KEEP_FREED_MEMORY", None)
    else:
        env["AMNET_EDU_KEEP_FREED_MEMORY"] = env_value
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    applied, again, released = out.stdout.split()
    return applied, again, int(released)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt, /proc: Linux only")
def test_keep_freed_memory_keeps_freed_blocks_and_can_be_switched_off():
    import platform

    # A fresh process each time: the setting is process-wide and cannot be undone.
    # Switched off: glibc serves a 128 MB block with mmap and returns it to the kernel on free.
    applied, again, released = _free_128mb_in_subprocess("0")
    assert (applied, again) == ("False", "False") and released > 100   # of 122 MiB
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc: keep_freed_memory() is a no-op")
    applied, again, released = _free_128mb_in_subprocess(None)
    assert (applied, again) == ("True", "True")   # applied once, then reported as applied
    assert released < 16                          # the freed block stays mapped for reuse
