"""The training collection, its crop cache, source mixing, the new losses and the resume guard."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from amnet_edu.config import ModelConfig
from amnet_edu.data import load_clip, load_collection, load_sequence, read_index
from amnet_edu.tracking.crops import crop_square, template_side
from amnet_edu.train.cache import CacheConfig, CropCache
from amnet_edu.train.sources import mix_weights
from amnet_edu.train.trainer import TrainConfig, balanced_bce, train
from amnet_edu.train.triplets import FrameSource, JitterConfig, TripletDataset, sample_triplet

TINY = ModelConfig(name="tiny", template_size=16, roi_size=48)


def _textured_frames(n=8, size=(90, 120), seed=0):
    """A textured background with a bright square drifting 2 px right per frame."""
    rng = np.random.default_rng(seed)
    bg = cv2.GaussianBlur(rng.integers(0, 255, size + (3,), dtype=np.uint8), (0, 0), 2)
    frames, boxes = [], []
    for t in range(n):
        f = bg.copy()
        x, y = 30 + 2 * t, 35
        f[y:y + 14, x:x + 18] = (250, 230, 20)
        frames.append(f)
        boxes.append((x, y, 18.0, 14.0))
    return frames, np.array(boxes)


def _write_clip(folder, frames, boxes, nan_rows=()):
    folder.mkdir(parents=True)
    H, W = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(folder / "video.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, (W, H))
    for f in frames:
        vw.write(f[..., ::-1])
    vw.release()
    lines = ["nan,nan,nan,nan" if i in nan_rows else ",".join(f"{v:.2f}" for v in b) for i, b in enumerate(boxes)]
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    (folder / "meta.json").write_text(json.dumps({"name": folder.name}))
    return folder


@pytest.fixture
def collection(tmp_path):
    root = tmp_path / "train"
    frames, boxes = _textured_frames()
    _write_clip(root / "A_one", frames, boxes, nan_rows=(3,))
    _write_clip(root / "B_two", frames[:5], boxes[:5])
    (root / "index.tsv").write_text("folder\tbenchmark\tframes\tlabelled\twidth\theight\tsplit\n"
                                    "A_one\tA\t8\t7\t120\t90\ttrain\nB_two\tB\t5\t5\t120\t90\tval\n")
    return root


def test_clip_layout_and_collection_splits(collection):
    seq = load_sequence(collection / "A_one")
    assert seq.layout == "clip" and len(seq) == 8 and np.isnan(seq.boxes[3]).all()
    assert seq.boxes[0].tolist() == [30.0, 35.0, 18.0, 14.0]          # 0-based, as written
    assert seq.info["meta"] == {"name": "A_one"}
    assert len(list(seq.frames())) == 8
    assert [s.name for s in load_collection(collection, split="train")] == ["A_one"]
    assert [s.name for s in load_collection(collection, split="val")] == ["B_two"]
    assert len(load_collection(collection)) == 2
    with pytest.raises(ValueError, match="split"):
        load_collection(collection, split="test")


def test_collection_errors_name_the_file(collection, tmp_path):
    (collection / "index.tsv").write_text("folder\tbenchmark\tframes\tlabelled\twidth\theight\tsplit\n"
                                          "A_one\tA\teight\t7\t120\t90\ttrain\n")
    with pytest.raises(ValueError, match="index.tsv line 2"):
        read_index(collection)
    (collection / "index.tsv").write_text("folder\tsplit\nA_one\ttrain\n")
    with pytest.raises(ValueError, match="header"):
        read_index(collection)
    with pytest.raises(FileNotFoundError, match="index.tsv"):
        read_index(tmp_path)
    (collection / "B_two" / "groundtruth.txt").write_text("1,2,3,4\n")
    with pytest.raises(ValueError, match="5 frames but groundtruth.txt has 1"):
        load_clip(collection / "B_two")


def test_cached_crops_equal_crops_of_the_whole_frame(collection, tmp_path):
    # Inside its region, a crop cut from the cache is the crop of the decoded frame (up to the
    # bilinear resampling done twice: a few grey levels), for the ROI at a shifted state too.
    seqs = load_collection(collection)
    cache = CropCache.build(seqs, TINY.template_size, CacheConfig(resolution=2.0), cache_dir=tmp_path / "c", log=None)
    assert len(cache.seq) == 7 + 5 and cache.size == round(6 * 16 * 2.0)
    src = cache.sources()[0]
    assert src.valid.tolist() == [0, 1, 2, 4, 5, 6, 7]
    frames = list(seqs[0].frames())
    x, y, w, h = seqs[0].boxes[5]
    s = template_side(w, h)
    for center, side, out in [((x + w / 2, y + h / 2), s, 16), ((x + w / 2 + 4, y + h / 2 - 3), 3 * s, 48)]:
        direct = crop_square(frames[5], center, side, out, frames[5].reshape(-1, 3).mean(0))
        cached = src.crop(5, center, side, out)
        assert np.abs(direct.astype(int) - cached.astype(int)).mean() < 6, (side, out)
    assert cache.outside_fraction((x + w / 2, y + h / 2), 3 * s, cache.index[0][5]) == 0.0
    # the same file is reused, and a changed setting builds another
    again = CropCache.build(seqs, TINY.template_size, CacheConfig(resolution=2.0), cache_dir=tmp_path / "c", log=None)
    other = CropCache.build(seqs, TINY.template_size, CacheConfig(resolution=1.0), cache_dir=tmp_path / "c", log=None)
    assert again.path == cache.path and other.path != cache.path and other.size == 96
    # triplets come from the cache through the same interface as from frames in memory
    ds = TripletDataset(cache.sources(), TINY, length=4, seed=0, jitter=JitterConfig.ours())
    assert ds[3]["z_t"].shape == (3, 48, 48) and torch.equal(ds[3]["z_t"], ds[3]["z_t"])


def test_cache_key_follows_content_not_file_times(collection, tmp_path):
    # A re-checkout of the same data (new modification times) reuses the cache; changed video
    # bytes of the same size do not. A second build after the first finds the finished file.
    import os
    from amnet_edu.train.cache import _fingerprint
    seqs = load_collection(collection)
    before = [_fingerprint(s) for s in seqs]
    first = CropCache.build(seqs, TINY.template_size, CacheConfig(), cache_dir=tmp_path / "c", log=None)
    video = collection / seqs[0].name / "video.mp4"
    os.utime(video, (1e9, 1e9))
    assert CropCache.build(load_collection(collection), TINY.template_size, CacheConfig(),
                           cache_dir=tmp_path / "c", log=None).path == first.path
    data = bytearray(video.read_bytes())
    data[-1] ^= 0xFF
    video.chmod(0o644)
    video.write_bytes(bytes(data))
    after = [_fingerprint(s) for s in load_collection(collection)]
    assert after[0] != before[0] and after[1] == before[1]


def test_mix_weights_hand_computed():
    frames, boxes = _textured_frames(n=9)
    a = FrameSource("a", frames, boxes)            # 9 annotated frames
    b = FrameSource("b", frames[:4], boxes[:4])    # 4
    c = FrameSource("c", frames[:4], boxes[:4])
    srcs, w = mix_weights({"one": ([a, b], 0.75), "two": ([c], 0.25), "none": ([], 0.5)}, per_sequence="sqrt")
    assert [s.name for s in srcs] == ["a", "b", "c"]
    assert w == pytest.approx([0.75 * 3 / 5, 0.75 * 2 / 5, 0.25])
    _, w = mix_weights({"one": ([a, b], 1.0)}, per_sequence="frames")
    assert w == pytest.approx([9 / 13, 4 / 13])
    with pytest.raises(ValueError, match="no training data"):
        mix_weights({"one": ([a], 0.0)})
    # the dataset draws sources in those proportions
    ds = TripletDataset([a, b], TINY, length=2000, seed=0, weights=[0.9, 0.1])
    drawn = [ds.sources[int(np.random.default_rng([0, k]).choice(2, p=ds.p))].name for k in range(2000)]
    assert 0.87 < drawn.count("a") / 2000 < 0.93


def test_balanced_bce_hand_computed():
    # one positive cell (t=1) and three negatives (t=0): each side carries half of the total
    # weight N = 4 (weights average 1, as a sum over cells)
    logits = torch.tensor([[[[2.0, -1.0], [0.0, 1.0]]]])
    target = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    sp = lambda v: float(np.log1p(np.exp(v)))  # softplus
    expected = 4 * (0.5 * sp(-2.0) + (sp(-1.0) + sp(0.0) + sp(1.0)) / 6)
    assert float(balanced_bce(logits, target)) == pytest.approx(expected, rel=1e-6)
    # a negative pair's all-zero target: the negatives carry their half of the weight alone
    empty = torch.zeros_like(target)
    expected = 4 * (sp(2.0) + sp(-1.0) + sp(0.0) + sp(1.0)) / 8
    assert float(balanced_bce(logits, empty)) == pytest.approx(expected, rel=1e-6)


def test_ours_jitter_template_from_an_earlier_frame_on_the_true_box():
    frames, boxes = _textured_frames(n=8)
    src = FrameSource("s", frames, boxes)
    still = dict(brightness=0.0, contrast=0.0, gray_prob=0.0, flip_prob=0.0, blur_prob=0.0, occlusion_prob=0.0,
                 shake=0.0, center_error=0.3, size_error=0.0)
    jit = JitterConfig(template_error=0.0, template_gap=6, **still)
    for seed in range(6):
        smp = sample_triplet(src, TINY, np.random.default_rng(seed), jit)
        # the template is the true box of *some* annotated frame up to 6 before t-1: one of these
        cands = [crop_square(frames[k], (boxes[k][0] + 9, boxes[k][1] + 7), template_side(18, 14), 16,
                             frames[k].reshape(-1, 3).mean(0)) for k in range(8)]
        assert any(np.array_equal(smp["x_prev"], c) for c in cands)


def test_resume_refuses_a_changed_config(tmp_path):
    frames, boxes = _textured_frames()
    srcs = [FrameSource("s", frames, boxes)]
    cfg = TrainConfig(kind="anet", profile=TINY, steps=2, batch_size=2, val_every=100, val_size=2,
                      checkpoint_every=1, out_dir=str(tmp_path / "run"), device="cpu", stop_at=1)
    train(cfg, srcs, progress=False, log=lambda *a: None)
    changed = TrainConfig(**{**cfg.__dict__, "loss": "bce", "stop_at": None})
    with pytest.raises(ValueError, match="loss"):
        train(changed, srcs, progress=False, log=lambda *a: None)
    # where it writes and how often it reports may change
    same = TrainConfig(**{**cfg.__dict__, "stop_at": None, "val_every": 50})
    assert train(same, srcs, progress=False, log=lambda *a: None)["history"][-1]["step"] == 2


def test_deep_supervision_trains_both_stream_heads(tmp_path):
    frames, boxes = _textured_frames()
    srcs = [FrameSource("s", frames, boxes)]
    cfg = TrainConfig.ours(kind="amnet", profile=TINY, steps=2, batch_size=2, val_every=2, val_size=2,
                           checkpoint_every=2, out_dir=str(tmp_path / "ds"), device="cpu", workers=1)
    hist = train(cfg, srcs, progress=False, log=lambda *a: None)["history"]
    assert {"loss_O_A", "loss_O_M"} <= set(hist[-1]) and "val_within_2_O_M" in hist[-1]
    from amnet_edu.checkpoint import read_checkpoint
    ck = read_checkpoint(tmp_path / "ds" / "last.pt")
    assert set(ck["heads"]) == {"motion.weight", "motion.bias"}


def test_evaluate_cli_on_a_collection_split_with_a_configured_loop(collection, tmp_path, capsys):
    from amnet_edu.evaluate.report import main
    from amnet_edu.evaluate.results import has_result

    rc = main(["--split", "val", "--data", str(collection), "--trackers", "kcf", "anet",
               "--set", "template=anchor", "--results", str(tmp_path / "res")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "ANet-template=anchor" in out and "KCF" in out and "OPE on 1 sequence" in out
    assert has_result(tmp_path / "res", "train_val", "ANet-template=anchor", "B_two")
    assert main(["--split", "val", "--data", str(collection), "--set", "template=first"]) == 2
