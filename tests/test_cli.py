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


def test_bare_backbone_is_the_backbone_without_its_extras():
    # With the backbone's weights copied in (its last layer has no bias), the bare stack on a
    # centred input gives the backbone's last layer: same convolutions, nothing added.
    import torch

    from amnet_edu.bench import bare_backbone
    from amnet_edu.config import get_config
    from amnet_edu.model.backbone import SiameseAtrousBackbone

    cfg = get_config("cpu")
    bb = SiameseAtrousBackbone(cfg).eval()
    bare = bare_backbone(cfg).eval()
    convs = [m for m in bare if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == len(cfg.backbone) == 6
    with torch.no_grad():
        for a, b in zip(convs, bb.convs):
            a.weight.copy_(b.weight)
            a.bias.copy_(b.bias if b.bias is not None else torch.zeros_like(a.bias))
        x = torch.rand(1, 3, 40, 40)
        _, maps = bb(x, return_maps=True)
        assert torch.allclose(bare(x - 0.5), maps["conv6"], atol=1e-5)


def test_bench_prints_ratios_side_by_side_speeds_and_training_throughput(capsys):
    assert main(["bench", "--profiles", "cpu", "--repeat", "1", "--no-direct", "--frames", "4",
                 "--rounds", "1", "--train-steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "| **AMNet / bare backbone** |" in out and "| bare Table-1 backbone (ROI) |" in out
    assert "| ROI transform |" in out and "cpu GFLOP/s" in out
    for row in ("| amnet/cpu |", "| anet/cpu |", "| amnet/cpu:online=none |", "| CSRT | "):
        assert row in out
    assert out.split("| CSRT |")[1].splitlines()[0].endswith("| 1.00x |")      # CSRT against itself
    assert "samples/s" in out


def test_xcorr_cost_by_hand():
    # cpu profile: R = 96, C = 190, G = 3; F = 96 * 49 = 4704 frequencies, N = 9216 points
    import math

    from amnet_edu.bench import xcorr_cost
    from amnet_edu.config import get_config

    c = xcorr_cost(get_config("cpu"), batch=2)
    fft = 2.5 * 9216 * math.log2(9216)
    assert math.isclose(c["ROI transform"]["gflop"], 2 * 190 * fft / 1e9)
    assert math.isclose(c["ROI transform"]["mb"], 2 * 190 * (4 * 9216 + 8 * 4704) / 1e6)
    assert math.isclose(c["product + level sums"]["gflop"], 2 * 8 * 190 * 4704 / 1e9)
    assert math.isclose(c["product + level sums"]["mb"], 2 * (2 * 190 + 3) * 4704 * 8 / 1e6)
    assert math.isclose(c["inverse (levels)"]["mb"], 2 * 3 * (8 * 4704 + 4 * 9216) / 1e6)
