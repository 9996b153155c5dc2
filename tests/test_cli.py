"""The command line: each subcommand runs and says what it does."""
import subprocess
import sys
from pathlib import Path

import numpy as np

from amnet_edu.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_subcommands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for cmd in ("train", "evaluate", "bench", "track"):
        assert f"amnet-edu {cmd}" in out
    assert main(["frobnicate"]) == 2


def test_track_writes_one_box_per_frame(tmp_path):
    out = tmp_path / "boxes.txt"
    assert main(["track", str(ROOT / "data_samples" / "synthetic_pan"), "--tracker", "kcf", "--out", str(out)]) == 0
    boxes = np.loadtxt(out, delimiter=",")
    gt = np.loadtxt(ROOT / "data_samples" / "synthetic_pan" / "groundtruth_rect.txt", delimiter=",")
    assert boxes.shape == gt.shape
    assert np.allclose(boxes[0], gt[0] - [1, 1, 0, 0], atol=0.01)  # 0-based first box


def test_train_help_runs_as_a_module():
    r = subprocess.run([sys.executable, "-m", "amnet_edu.train", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "--kind" in r.stdout and "torchrun" in r.stdout
