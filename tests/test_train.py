"""Training data and the training loop: geometry of the targets, determinism, resume, DDP."""
import json
import os
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from amnet_edu.checkpoint import read_checkpoint
from amnet_edu.model import roi_to_cell
from amnet_edu.train import (JitterConfig, TrainConfig, TripletDataset, gaussian_map, loss_fn, lr_at,
                             sample_triplet, train)

from conftest import TINY_TRAIN as TINY
from conftest import square_source as _square_source
from conftest import tiny_train_config as _tiny_cfg

NO_JITTER = JitterConfig(center_error=0, size_error=0, brightness=0, contrast=0, gray_prob=0, flip_prob=0)


def test_gaussian_map_hand_values():
    g = gaussian_map(5, (2, 1), sigma=1.0)
    assert g[2, 1] == 1.0
    assert g[2, 2] == pytest.approx(np.exp(-0.5))
    assert g[0, 1] == pytest.approx(np.exp(-2.0))


def test_target_peak_is_where_the_object_is_in_z_t():
    src = _square_source()
    rng = np.random.default_rng(0)
    for _ in range(5):
        s = sample_triplet(src, TINY, rng, NO_JITTER)
        yellow = np.argwhere((s["z_t"][..., 2] < 100) & (s["z_t"][..., 0] > 150))
        cy, cx = yellow.mean(0) + 0.5  # centre of the object in continuous ROI pixels
        ci, cj = roi_to_cell(cx, cy, TINY.template_size)
        pi, pj = np.unravel_index(np.argmax(s["target"]), s["target"].shape)
        assert abs(pi - ci) <= 1.0 and abs(pj - cj) <= 1.0
        assert np.allclose(s["center"], (ci, cj), atol=0.6)
        # the template is centred on the object in frame t-1 (no jitter): its centre is yellow
        assert s["x_prev"][8, 8, 0] > 150 and s["x_prev"].shape == (16, 16, 3)


def test_flip_moves_the_target_with_the_patches():
    src = _square_source()
    j = JitterConfig(center_error=0.3, size_error=0, brightness=0, contrast=0, gray_prob=0, flip_prob=1.0)
    s = sample_triplet(src, TINY, np.random.default_rng(4), j)
    yellow = np.argwhere((s["z_t"][..., 2] < 100) & (s["z_t"][..., 0] > 150))
    cy, cx = yellow.mean(0) + 0.5
    ci, cj = roi_to_cell(cx, cy, TINY.template_size)
    assert np.allclose(s["center"], (ci, cj), atol=0.6)


def test_dataset_items_are_deterministic_per_index():
    ds = TripletDataset([_square_source(seed=1), _square_source(seed=2)], TINY, length=10, seed=3)
    a, b = ds[7], ds[7]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(ds[7]["z_t"], ds[8]["z_t"])
    assert a["z_t"].shape == (3, 48, 48) and a["target"].shape == (1, 33, 33)
    assert 0.0 <= float(a["z_t"].min()) and float(a["z_t"].max()) <= 1.0


def _blue_source():
    """Like ``square_source`` but a blue square on a grey frame: another object, another scene."""
    from amnet_edu.train import FrameSource

    frames, boxes = [], []
    for t in range(8):
        f = np.full((140, 180, 3), 120, np.uint8)
        f[40 + t:60 + t, 70:90] = (20, 40, 230)
        frames.append(f)
        boxes.append((70, 40 + t, 20, 20))
    return FrameSource("blue", frames, np.array(boxes, float))


def test_negative_pair_has_a_foreign_template_and_an_empty_target():
    # The same draw with and without a negative source: the ROIs are the same, the template is
    # the other sequence's object (blue, not yellow) and no cell is labelled
    src, other = _square_source(), _blue_source()
    pos = sample_triplet(src, TINY, np.random.default_rng(5), NO_JITTER)
    neg = sample_triplet(src, TINY, np.random.default_rng(5), NO_JITTER, negative_src=other)
    assert np.array_equal(pos["z_t"], neg["z_t"]) and np.array_equal(pos["z_prev"], neg["z_prev"])
    assert pos["x_prev"][8, 8, 0] > 150 and tuple(neg["x_prev"][8, 8]) == (20, 40, 230)
    assert pos["target"].max() > 0.9 and not neg["target"].any()
    assert np.isnan(neg["center"]).all()


def test_dataset_draws_negatives_at_their_rate_and_never_with_one_source():
    srcs = [_square_source(seed=1), _square_source(seed=2), _blue_source()]
    empty = lambda ds: [not bool(ds[k]["target"].any()) for k in range(len(ds))]
    assert not any(empty(TripletDataset(srcs, TINY, length=12, seed=3)))
    assert all(empty(TripletDataset(srcs, TINY, length=12, seed=3, jitter=JitterConfig(negative_prob=1.0))))
    half = TripletDataset(srcs, TINY, length=40, seed=3, jitter=JitterConfig(negative_prob=0.5))
    n = sum(empty(half))
    assert 8 <= n <= 32, n                       # about half of 40 (binomial: 20 +- 3)
    assert empty(half) == empty(half)            # deterministic per index
    one = TripletDataset(srcs[:1], TINY, length=12, seed=3, jitter=JitterConfig(negative_prob=1.0))
    assert not any(empty(one))                   # no other source to take a template from



def _yellow_centre(patch):
    """Centre (x, y) of the yellow square in a patch, in continuous pixels."""
    yellow = np.argwhere((patch[..., 2] < 100) & (patch[..., 0] > 150))
    cy, cx = yellow.mean(0) + 0.5
    return cx, cy


def test_recorded_state_within_reach_only():
    from amnet_edu.train import recorded_state
    from amnet_edu.train.triplets import state_offset

    src = _square_source()
    j = JitterConfig()
    assert recorded_state(src, 3, j) is None                      # no states
    x, y, w, h = src.boxes[3]                                     # 20 x 20: template side 40 px
    src.states = src.boxes.copy()
    src.states[3] = (x + 30, y - 10, 24, 18)
    assert recorded_state(src, 3, j) == pytest.approx((x + 42, y - 1, 24, 18))  # 32 px off
    assert state_offset(src, 3, j)[1] == pytest.approx(32 / 40)     # worse axis, in template sides
    src.states[3] = (x + 41, y, 20, 20)                           # 41 px > one side off
    assert recorded_state(src, 3, j) is None
    assert recorded_state(src, 3, JitterConfig(rollout_reach=1.1)) is not None
    src.states[3] = (x, y, 31, 20)                                # 1.55x the width
    assert recorded_state(src, 3, j) is None
    src.states[3] = np.nan
    assert recorded_state(src, 3, j) is None


def test_rollout_state_places_the_rois_where_the_tracker_was():
    # The tracker sat 20 px (half a template side) right of the square at every frame: the ROIs
    # are cut there, so the square is 20 * 48 / 120 = 8 ROI px left of their centre in z_prev, and
    # the label still marks it in z_t. States out of reach leave the truth-centred ROIs.
    src = _square_source()
    src.states = src.boxes + [20, 0, 0, 0]
    anchored = replace(NO_JITTER, rollout_prob=1.0, template_error=0.0)
    s = sample_triplet(src, TINY, np.random.default_rng(2), anchored)
    assert _yellow_centre(s["z_prev"]) == pytest.approx((24 - 8, 24), abs=0.3)
    ci, cj = roi_to_cell(*_yellow_centre(s["z_t"]), TINY.template_size)
    assert np.allclose(s["center"], (ci, cj), atol=0.6)
    pi, pj = np.unravel_index(np.argmax(s["target"]), s["target"].shape)
    assert abs(pi - ci) <= 1.0 and abs(pj - cj) <= 1.0
    assert s["x_prev"][8, 8, 0] > 150                 # our anchored template stays on the truth
    paper = sample_triplet(src, TINY, np.random.default_rng(2), replace(NO_JITTER, rollout_prob=1.0))
    # the paper's template is cut at the state too: the square (8 template px wide) is centred
    # 20 * 16 / 40 = 8 px left of the template's centre, on its left edge; its right half shows
    assert _yellow_centre(paper["x_prev"])[0] == pytest.approx(2.0, abs=0.3)
    src.states = src.boxes + [60, 0, 0, 0]                        # 1.5 sides off: not used
    s = sample_triplet(src, TINY, np.random.default_rng(2), replace(NO_JITTER, rollout_prob=1.0))
    assert _yellow_centre(s["z_prev"]) == pytest.approx((24, 24), abs=0.3)


def test_rollout_samples_come_from_the_frames_where_the_tracker_was_off():
    from amnet_edu.train import rollout_frames

    src = _square_source()
    src.states = src.boxes.copy()
    src.states[[2, 5, 8]] += [20, 0, 0, 0]                        # half a side off at 2, 5, 8
    src.states[6] += [0, 60, 0, 0]                                # 1.5 sides off: out of reach
    j = replace(NO_JITTER, rollout_prob=1.0, rollout_min_error=0.25, template_error=0.0)
    assert rollout_frames(src, j).tolist() == [2, 5, 8]
    assert rollout_frames(src, replace(j, rollout_min_error=0.0)).tolist() == [0, 1, 2, 3, 4, 5, 7, 8, 9, 10]
    rng = np.random.default_rng(0)
    for _ in range(6):                                            # every sample: a state 8 ROI px off
        assert _yellow_centre(sample_triplet(src, TINY, rng, j)["z_prev"]) == pytest.approx((16, 24), abs=0.3)
    src.states = src.boxes.copy()                                 # new states, no frame off: Gaussian
    assert rollout_frames(src, j).size == 0
    assert _yellow_centre(sample_triplet(src, TINY, rng, j)["z_prev"]) == pytest.approx((24, 24), abs=0.3)


def test_rollouts_off_draw_nothing_and_states_are_attached_by_name(tmp_path):
    from amnet_edu.evaluate.results import write_result
    from amnet_edu.train import attach_states

    srcs = [_square_source(seed=1), _blue_source()]
    plain = TripletDataset(srcs, TINY, length=6, seed=3)
    folder = tmp_path / "bench" / "ANet"
    write_result(tmp_path, "bench", "ANet", "squares", srcs[0].boxes + [15, 0, 0, 0], np.zeros(12))
    srcs[1].states = srcs[1].boxes.copy()                         # stale states of an earlier run
    rec = attach_states(srcs, folder)
    assert rec["sequences"] == 1 and rec["folder"] == str(folder)
    assert np.allclose(srcs[0].states, srcs[0].boxes + [15, 0, 0, 0]) and srcs[1].states is None
    # states attached but rollout_prob 0: the very same items
    same = TripletDataset(srcs, TINY, length=6, seed=3)
    assert all(torch.equal(plain[k]["z_prev"], same[k]["z_prev"]) for k in range(6))
    rolled = TripletDataset(srcs, TINY, length=6, seed=3, jitter=JitterConfig(rollout_prob=1.0))
    assert any(not torch.equal(plain[k]["z_prev"], rolled[k]["z_prev"]) for k in range(6))
    # another run, another record; a run of the wrong length or of nothing is refused
    write_result(tmp_path, "bench", "ANet", "squares", srcs[0].boxes + [16, 0, 0, 0], np.zeros(12))
    assert attach_states(srcs, folder)["sha256"] != rec["sha256"]
    write_result(tmp_path, "bench", "ANet", "squares", srcs[0].boxes[:5], np.zeros(5))
    with pytest.raises(ValueError, match="5 boxes"):
        attach_states(srcs, folder)
    with pytest.raises(ValueError, match="no run on any"):
        attach_states([_blue_source()], folder)
    with pytest.raises(FileNotFoundError):
        attach_states(srcs, tmp_path / "nowhere")


def test_training_with_rollouts_records_them_and_refuses_other_states(tmp_path):
    src = _square_source()
    src.states = src.boxes + [10, 0, 0, 0]
    rec = {"folder": "x", "sequences": 1, "sha256": "a"}
    cfg = _tiny_cfg(tmp_path / "r", 2, kind="anet", jitter={"rollout_prob": 1.0}, rollouts=rec, stop_at=1)
    train(cfg, [src], progress=False, log=lambda *a: None)
    saved = json.loads(read_checkpoint(tmp_path / "r" / "last.pt")["train_config"])
    assert saved["rollouts"] == rec
    with pytest.raises(ValueError, match="rollouts"):
        train(replace(cfg, rollouts={**rec, "sha256": "b"}, stop_at=None), [src], progress=False, log=lambda *a: None)

def test_training_with_negatives_validates_on_positive_pairs_only(tmp_path):
    # every training pair negative; validation would give NaN peak errors if it drew them
    srcs = [_square_source(seed=1), _blue_source()]
    cfg = _tiny_cfg(tmp_path / "neg", 2, kind="anet", val_every=2, jitter={"negative_prob": 1.0})
    hist = train(cfg, srcs, progress=False, log=lambda *a: None)["history"]
    val = [h for h in hist if "val_loss" in h]
    assert val and all(np.isfinite(h["val_peak_err"]) and np.isfinite(h["val_loss"]) for h in val)


def test_a_non_finite_step_is_skipped_and_the_weights_stay_finite(tmp_path, monkeypatch):
    # the second training step's loss is NaN: that update is skipped (and recorded), the others
    # are made, and the weights stay finite
    import amnet_edu.train.trainer as trainer

    calls = []

    def nan_on_second(name):
        real = trainer.LOSSES[name]

        def loss(logits, target):
            calls.append(1)
            out = real(logits, target)
            return out * float("nan") if len(calls) == 2 else out
        return loss

    monkeypatch.setattr(trainer, "LOSSES", {k: nan_on_second(k) for k in trainer.LOSSES})
    res = train(_tiny_cfg(tmp_path / "nan", 3, kind="anet"), [_square_source(seed=1)], progress=False,
                log=lambda *a: None)
    steps = [h for h in res["history"] if "loss" in h]
    assert [("skipped" in h) for h in steps] == [False, True, False]
    assert all(torch.isfinite(p).all() for p in res["model"].parameters())
    assert np.isfinite(steps[2]["loss"])


def test_lr_schedule_and_loss():
    cfg = TrainConfig(steps=100, lr=1e-3, lr_final=1e-5, lr_drops=(0.5, 0.8))
    assert [lr_at(s, cfg) for s in (0, 49, 50, 79, 80, 99)] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5])
    pred = torch.zeros(2, 1, 2, 2)
    target = torch.tensor([[[[1.0, 0], [0, 0]]], [[[1.0, 1.0], [0, 0]]]])
    assert float(loss_fn(pred, target)) == pytest.approx((1 + 2) / 2)  # sum over cells, mean over batch


def test_resume_gives_the_same_weights_as_one_run(tmp_path):
    srcs = [_square_source(seed=1), _square_source(seed=2)]
    full = train(_tiny_cfg(tmp_path / "full", 4), srcs, progress=False, log=lambda *a: None)["model"]
    interrupted = _tiny_cfg(tmp_path / "part", 4)
    interrupted.stop_at = 2
    train(interrupted, srcs, progress=False, log=lambda *a: None)
    assert read_checkpoint(tmp_path / "part" / "last.pt")["step"] == 2
    # rerun the same command: it resumes at step 2 (same data indices, optimizer state restored)
    resumed = train(_tiny_cfg(tmp_path / "part", 4), srcs, progress=False, log=lambda *a: None)["model"]
    a, b = full.state_dict(), resumed.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    ck = read_checkpoint(tmp_path / "part" / "last.pt")
    assert ck["step"] == 4


DDP_WORKER = Path(__file__).with_name("ddp_worker.py")


def _run_group(cmd, env, timeout=300):
    """Run ``cmd`` in its own process group; on timeout kill the whole group (torchrun's workers too)."""
    import signal

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n[killed after {timeout} s]"
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed not available")
def test_distributed_training_matches_one_process(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    one = _run_group([sys.executable, str(DDP_WORKER), str(tmp_path / "one")], env)
    assert one.returncode == 0, one.stderr[-2000:]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(DDP_WORKER), str(tmp_path / "two")]
    for attempt in range(2):  # gloo teardown occasionally aborts after the work is done (toolchain notes)
        two = _run_group(cmd, env)
        if (tmp_path / "two" / "weights.pt").exists():
            break
    assert (tmp_path / "two" / "weights.pt").exists(), \
        f"torchrun with 2 gloo processes failed (exit {two.returncode}):\n{two.stderr[-3000:]}"
    a = torch.load(tmp_path / "one" / "weights.pt", weights_only=True)
    b = torch.load(tmp_path / "two" / "weights.pt", weights_only=True)
    assert a.keys() == b.keys()
    # The worker trains in float64 (ddp_worker.py). Two processes sum the gradient in another
    # order than one, so the gradients differ by rounding, ~1e-16 relative in float64. Adam
    # divides by sqrt(v) + 1e-8: in float32 a component whose true gradient is ~0 can become
    # rounding noise of ~1e-7 and be amplified to a whole lr-sized step (we saw 4.9e-5 here).
    # In float64 that noise (~1e-16) stays far below Adam's eps, so the updates agree to
    # ~lr * 1e-8 per step; 1e-9 after 3 steps of lr 1e-3 leaves a wide margin.
    diffs = {k: float((a[k] - b[k]).abs().max()) for k in a}
    assert max(diffs.values()) < 1e-9, diffs
    # and training moved the weights at all
    from amnet_edu.model import build_model
    init = build_model("amnet", TINY, seed=1).state_dict()
    assert any(float((init[k] - a[k]).abs().max()) > 1e-4 for k in a)


def test_template_error_moves_the_template_only():
    from amnet_edu.config import CPU
    from amnet_edu.tracking.crops import crop_square, template_side
    from amnet_edu.train.triplets import FrameSource, JitterConfig, sample_triplet

    rng0 = np.random.default_rng(5)
    frame = rng0.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    box = (60.0, 40.0, 30.0, 24.0)
    src = FrameSource("still", [frame] * 4, np.array([box] * 4))
    still = dict(size_error=0.0, center_error=0.3, brightness=0.0, contrast=0.0, gray_prob=0.0, flip_prob=0.0)
    s = template_side(box[2], box[3], 0.5)
    pad = frame.reshape(-1, 3).mean(axis=0)
    on_box = crop_square(frame, (75.0, 52.0), s, CPU.template_size, pad)
    clean = sample_triplet(src, CPU, np.random.default_rng(1), JitterConfig(template_error=0.0, **still))
    assert np.array_equal(clean["x_prev"], on_box)
    # the ROIs still sit at the erroneous state: the target is off the map's centre
    assert np.abs(clean["center"] - (CPU.response_size - 1) / 2).max() > 0.5
    shared = sample_triplet(src, CPU, np.random.default_rng(1), JitterConfig(template_error=1.0, **still))
    assert not np.array_equal(shared["x_prev"], on_box)
    assert np.array_equal(shared["z_t"], clean["z_t"]) and np.array_equal(shared["center"], clean["center"])


def test_best_checkpoint_is_the_lowest_validation_loss_and_export_records_it(tmp_path, monkeypatch):
    # Scripted validation losses: best.pt must hold the step of the lowest one, also after a
    # resume (the best value is recomputed from the stored history), and export must ship it
    # with the run's record and the full history.
    import json

    from amnet_edu.train import trainer
    from amnet_edu.train.export import _train_seconds, export

    script = iter([5.0, 3.0, 4.0, 3.5, 2.0])
    monkeypatch.setattr(trainer, "evaluate_loss",
                        lambda *a, **k: {"val_loss": next(script), "val_peak_err": 0.0, "val_within_2": 0.0})
    srcs = [_square_source(seed=1)]
    cfg = _tiny_cfg(tmp_path / "run", 5, val_every=1, checkpoint_every=1, stop_at=3)
    train(cfg, srcs, progress=False, log=lambda *a: None)
    assert read_checkpoint(tmp_path / "run" / "best.pt")["step"] == 2          # 3.0 at step 2
    train(_tiny_cfg(tmp_path / "run", 5, val_every=1, checkpoint_every=1), srcs, progress=False, log=lambda *a: None)
    # steps 4 (3.5: worse than 3.0, not saved) and 5 (2.0: the new best)
    assert read_checkpoint(tmp_path / "run" / "best.pt")["step"] == 5
    dest = export(tmp_path / "run", tmp_path / "ship" / "m.pt")
    rec = json.loads(read_checkpoint(dest)["record"])
    assert rec["exported_step"] == 5 and rec["steps_done"] == 5 and "stopped" in rec["command"]
    hist = json.loads((tmp_path / "ship" / "m_history.json").read_text())
    assert [h["step"] for h in hist] == [1, 2, 3, 4, 5]
    # training time over two segments whose clocks each restart at 0
    assert _train_seconds([{"seconds": 1.0}, {"seconds": 2.5}, {"seconds": 0.5}, {"seconds": 1.5}]) == 4.0


def test_parse_mix_and_its_errors():
    from amnet_edu.train.cli import parse_mix

    assert parse_mix("collection=0.9, synthetic=0.1") == {"collection": 0.9, "synthetic": 0.1}
    for bad in ("videos=1", "collection", "collection=abc", "real=-1"):
        with pytest.raises(SystemExit):
            parse_mix(bad)


def test_train_cli_refuses_rollout_prob_without_rollouts(tmp_path):
    from amnet_edu.train.cli import build_parser, run

    args = build_parser().parse_args(["--mix", "synthetic=1", "--synthetic", "1", "--jitter-set", "rollout_prob=0.5",
                                      "--out", str(tmp_path / "r"), "--profile", "cpu"])
    with pytest.raises(SystemExit, match="needs --rollouts"):
        run(args)

def test_parse_model_and_jitter_changes():
    from amnet_edu.train.cli import parse_jitter_changes, parse_model_changes

    assert parse_jitter_changes(["template_gap=150", "blur_prob=0.3"]) == {"template_gap": 150, "blur_prob": 0.3}
    assert parse_model_changes(["fusion=gated"]) == {"fusion": "gated"}
    for bad in (["gap=1"], ["template_gap"], ["template_gap=lots"]):
        with pytest.raises(SystemExit):
            parse_jitter_changes(bad)
    with pytest.raises(SystemExit):
        parse_model_changes(["name=x"])


def test_branch_continues_the_parent_run_with_a_model_variant(tmp_path):
    # A branch starts at the parent's step with its weights, optimiser and history, on the same
    # data; only the model variant (here MNet without the pooling pyramid) may differ.
    srcs = [_square_source(seed=1), _square_source(seed=2)]
    quiet = dict(progress=False, log=lambda *a: None)
    parent = _tiny_cfg(tmp_path / "parent", 4, stop_at=2)
    train(parent, srcs, **quiet)
    with pytest.raises(ValueError, match="seed"):
        train(_tiny_cfg(tmp_path / "bad", 4, seed=5, branch_from=str(tmp_path / "parent" / "last.pt")), srcs, **quiet)
    branch = _tiny_cfg(tmp_path / "branch", 4, model_changes={"motion_pyramid": "none"},
                       branch_from=str(tmp_path / "parent" / "last.pt"))
    out = train(branch, srcs, **quiet)
    hist = out["history"]
    assert [h["step"] for h in hist] == [1, 2, 3, 4]
    assert hist[2]["branched_from"].endswith("last.pt") and hist[2]["model_changes"] == {"motion_pyramid": "none"}
    assert out["model"].cfg.motion_pyramid == "none"
    ck = read_checkpoint(tmp_path / "branch" / "last.pt")
    assert ck["step"] == 4
    # steps 1-2 of the branch's history are the parent's, number for number
    assert hist[:2] == json.loads(read_checkpoint(tmp_path / "parent" / "last.pt")["history"])
    # resuming the branch itself checks against the branch's own configuration
    train(_tiny_cfg(tmp_path / "branch", 4, model_changes={"motion_pyramid": "none"},
                    branch_from=str(tmp_path / "parent" / "last.pt")), srcs, **quiet)
    with pytest.raises(ValueError, match="model_changes"):
        train(_tiny_cfg(tmp_path / "branch", 4), srcs, **quiet)


def test_mnet_without_pyramid_hands_back_the_spotlight_response():
    from amnet_edu.config import get_config
    from amnet_edu.model.mnet import MNet

    torch.manual_seed(0)
    paper = MNet(get_config("cpu"))
    plain = MNet(get_config("cpu").replace(motion_pyramid="none"))
    plain.load_state_dict(paper.state_dict())          # the pyramid has no parameters
    z, zp = torch.rand(2, 3, 96, 96), torch.rand(2, 3, 96, 96)
    o_m, maps = paper(z, zp, return_maps=True)
    assert torch.equal(plain(z, zp), maps["O_SF"])
    with pytest.raises(ValueError, match="motion_pyramid"):
        get_config("cpu").replace(motion_pyramid="median")


def test_init_from_an_anet_only_run_makes_amnet_that_tracker_at_step_0(tmp_path):
    # Two-stage training: ANet-only's weights become AMNet's appearance stream and the fusion
    # starts as O_A alone, so the fused logits equal ANet-only's before any motion training.
    from amnet_edu.checkpoint import load_checkpoint
    from amnet_edu.model.amnet import build_model
    from amnet_edu.train.trainer import _init_from
    from conftest import TINY_TRAIN

    srcs = [_square_source(seed=1), _square_source(seed=2)]
    quiet = dict(progress=False, log=lambda *a: None)
    train(_tiny_cfg(tmp_path / "anet", 2, kind="anet"), srcs, **quiet)
    anet = load_checkpoint(tmp_path / "anet" / "last.pt")
    amnet = build_model("amnet", TINY_TRAIN, seed=3)
    note = _init_from(amnet, tmp_path / "anet" / "last.pt")
    assert note["init_from_kind"] == "anet" and note["fresh_modules"] == ["fuse", "mnet"]
    T, R = TINY_TRAIN.template_size, TINY_TRAIN.roi_size
    g = torch.Generator().manual_seed(0)
    z, zp, x = (torch.rand(2, 3, s, s, generator=g) for s in (R, R, T))
    with torch.no_grad():
        assert torch.allclose(amnet(z, zp, x, logits=True), anet(z, zp, x, logits=True), atol=1e-6)
    # the other way round does not fit: AMNet has tensors ANet-only lacks
    train(_tiny_cfg(tmp_path / "am", 2), srcs, **quiet)
    with pytest.raises(ValueError, match="does not fit"):
        _init_from(build_model("anet", TINY_TRAIN, seed=3), tmp_path / "am" / "last.pt")


def test_frozen_stream_keeps_its_weights_while_the_rest_trains(tmp_path):
    srcs = [_square_source(seed=1), _square_source(seed=2)]
    quiet = dict(progress=False, log=lambda *a: None)
    train(_tiny_cfg(tmp_path / "anet", 2, kind="anet"), srcs, **quiet)
    start = read_checkpoint(tmp_path / "anet" / "last.pt")["state_dict"]
    cfg = _tiny_cfg(tmp_path / "stage2", 3, init_from=str(tmp_path / "anet" / "last.pt"), freeze=("anet",),
                    aux_weight=0.5, model_changes={"motion_pyramid": "dilated"})
    out = train(cfg, srcs, **quiet)
    state = out["model"].state_dict()
    assert all(torch.equal(state[k], v) for k, v in start.items())          # ANet untouched
    fresh = read_checkpoint(tmp_path / "stage2" / "last.pt")
    assert out["history"][0]["init_from"].endswith("last.pt")
    assert not torch.equal(state["fuse.weight"], torch.tensor([1.0, 0.0]).view(1, 2, 1, 1))  # fusion trained
    assert fresh["step"] == 3
    # resuming keeps the setting; a changed freeze is refused
    with pytest.raises(ValueError, match="freeze"):
        train(_tiny_cfg(tmp_path / "stage2", 4, init_from=str(tmp_path / "anet" / "last.pt"),
                        aux_weight=0.5, model_changes={"motion_pyramid": "dilated"}), srcs, **quiet)
    with pytest.raises(ValueError, match="no submodule 'appearance'"):
        train(_tiny_cfg(tmp_path / "bad", 2, freeze=("appearance",)), srcs, **quiet)
