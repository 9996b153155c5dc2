"""Synthetic sequence generator: determinism, exact boxes, flags, OTB round trip, samples."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amnet_edu.data import load_otb, make_dataset, make_sequence, save_otb

ALL_OFF = dict(scale_change=False, rotation=False, deformation=False, camera_motion=False,
               occlusion=False, distractor=False, illumination=False)
ALL_ON = dict(occlusion=True, distractor=True, illumination=True)


def test_deterministic_and_seed_dependent():
    a = make_sequence(3, num_frames=20, **ALL_ON)
    b = make_sequence(3, num_frames=20, **ALL_ON)
    c = make_sequence(4, num_frames=20, **ALL_ON)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.boxes, b.boxes)
    for k in a.attributes:
        assert np.array_equal(a.attributes[k], b.attributes[k])
    assert not np.array_equal(a.boxes, c.boxes)
    assert not np.array_equal(a.images, c.images)


def test_shapes_boxes_and_interface():
    seqs = make_dataset([0, 1, 2], num_frames=30, size=(120, 160), **ALL_ON)
    for s in seqs:
        assert s.images.shape == (30, 120, 160, 3) and s.images.dtype == np.uint8
        assert len(s) == 30 and s.boxes.shape == (30, 4) and np.isfinite(s.boxes).all()
        x, y, w, h = s.boxes.T
        assert (w > 0).all() and (h > 0).all()
        assert ((x < 160) & (y < 120) & (x + w > 0) & (y + h > 0)).all()  # overlaps the frame
        assert s.frame(5).shape == (120, 160, 3) and len(list(s.frames())) == 30
        assert set(s.attributes) == {"occlusion", "camera_motion", "illum_change", "scale_change",
                                     "deformation", "distractor"}
        assert all(v.dtype == bool and v.shape == (30,) for v in s.attributes.values())
    with pytest.raises(IndexError):
        seqs[0].frame(30)
    with pytest.raises(TypeError):
        make_sequence(0, no_such_option=1)


@pytest.mark.parametrize("seed,shape", [(0, "ellipse"), (1, "rect"), (2, "rect")])
def test_box_tightly_covers_target_pixels(seed, shape):
    color = (255, 0, 255)  # magenta: absent from the photographs
    s = make_sequence(seed, num_frames=25, target_color=color, target_shape=shape, noise=0.0)
    for t in range(0, 25, 3):
        f = s.frame(t).astype(int)
        on = (np.abs(f - color).max(axis=2) <= 12)
        ys, xs = np.nonzero(on)
        assert len(xs) > 20
        x, y, w, h = s.boxes[t]
        # pixels (nearly) fully covered by the target lie inside the box ...
        assert xs.min() >= np.floor(x) and xs.max() + 1 <= np.ceil(x + w)
        assert ys.min() >= np.floor(y) and ys.max() + 1 <= np.ceil(y + h)
        # ... and reach its edges (anti-aliased border pixels are mixed; an ellipse's tips
        # are narrow, so its fully covered pixels stop a little earlier)
        tol = 2.5 if shape == "ellipse" else 1.5
        assert xs.min() <= x + tol and xs.max() + 1 >= x + w - tol
        assert ys.min() <= y + tol and ys.max() + 1 >= y + h - tol


def test_flags_follow_options():
    s = make_sequence(5, num_frames=40, **ALL_OFF)
    assert not any(v.any() for v in s.attributes.values())
    assert np.allclose(s.boxes[:, 2:], s.boxes[0, 2:])  # size constant without scale/rotation/deform
    s = make_sequence(5, num_frames=60, camera_motion=True, illumination=True, deformation=True,
                      distractor=True)
    for k in ("camera_motion", "illum_change", "deformation", "distractor"):
        assert s.attributes[k].any(), k
    assert not s.attributes["occlusion"].any()
    occluded = [make_sequence(seed, num_frames=60, occlusion=True).attributes["occlusion"].any()
                for seed in range(3)]
    assert any(occluded)


def test_photographs_are_read_once(monkeypatch):
    # What keeps generation cheap (the book makes dozens of sequences): scikit-image decodes each
    # photograph once per process, not once per sequence.
    import skimage.data

    from amnet_edu.data.synthetic import PHOTOS

    first = make_sequence(1, num_frames=10, **ALL_ON)
    reads = []
    for name in PHOTOS:
        loader = getattr(skimage.data, name)
        monkeypatch.setattr(skimage.data, name,
                            lambda loader=loader, name=name: reads.append(name) or loader())
    again = make_sequence(1, num_frames=10, **ALL_ON)
    assert reads == []
    assert np.array_equal(first.images, again.images)


def test_save_otb_roundtrip(tmp_path):
    s = make_sequence(7, num_frames=12, **ALL_ON)
    save_otb(s, tmp_path / "seq", quality=95)
    assert (tmp_path / "seq" / "img" / "0001.jpg").exists()
    back = load_otb(tmp_path / "seq")
    assert len(back) == 12
    np.testing.assert_allclose(back.boxes, s.boxes, atol=1e-6)
    for k, v in s.attributes.items():
        assert np.array_equal(back.attributes[k], v)
    for t in (0, 11):
        diff = np.abs(back.frame(t).astype(int) - s.frame(t).astype(int))
        assert diff.mean() < 4 and np.percentile(diff, 99) < 40


def test_committed_samples_are_reproducible():
    from amnet_edu.data.make_samples import SAMPLES, generate

    root = Path(__file__).resolve().parents[1] / "data_samples"
    assert (root / "README.md").exists()
    for name in SAMPLES:
        seq = generate(name)
        committed = load_otb(root / name)
        assert len(committed) == len(seq)
        np.testing.assert_allclose(committed.boxes, seq.boxes, atol=1e-5, err_msg=name)
        for k, v in seq.attributes.items():
            assert np.array_equal(committed.attributes[k], v), (name, k)
