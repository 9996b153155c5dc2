"""Shared fixtures: the shared data root, stand-in sequences and trackers, OTB folders on disk."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real benchmark sequences (``$AMNET_EDU_DATA`` or ``../shared/data/tracking``);
    skips the test where they are absent, as on a user's machine."""
    from amnet_edu.data import shared_data_root

    root = shared_data_root()
    if root is None:
        repo = Path(__file__).resolve().parents[1]
        pytest.skip(f"shared tracking data not found at {repo.parent / 'shared/data/tracking'}; "
                    "set AMNET_EDU_DATA")
    return root


class FakeSequence:
    """Stand-in for ``amnet_edu.data.Sequence`` (``name``, ``boxes``, ``attributes``, ``len``,
    ``frame``). Frame i is ``frames[i]`` when frames are given, else a 4 x 4 image filled with the
    value i, so that a tracker can tell which frame it was handed."""

    def __init__(self, boxes, frames=None, name="fake", attributes=None):
        self.name = name
        self.boxes = np.asarray(boxes, dtype=np.float64)
        self.attributes = attributes or {}
        self._frames = frames

    def __len__(self):
        return len(self.boxes)

    def frame(self, i):
        if self._frames is not None:
            return self._frames[i]
        return np.full((4, 4, 3), i, dtype=np.uint8)


class ScriptedTracker:
    """Follows the evaluated-tracker protocol; returns ``script[i]`` on frame i (read from the
    frame's first pixel). Records the frames it was initialised on, its init boxes and its calls."""

    name = "Scripted"

    def __init__(self, script):
        self.script = script
        self.inits, self.init_boxes, self.calls = [], [], 0

    def init(self, frame, box):
        self.calls += 1
        self.inits.append(int(frame[0, 0, 0]))
        self.init_boxes.append(np.asarray(box))

    def update(self, frame):
        self.calls += 1
        return self.script[int(frame[0, 0, 0])]


@pytest.fixture
def fake_sequence():
    """The :class:`FakeSequence` class."""
    return FakeSequence


@pytest.fixture
def scripted_tracker():
    """The :class:`ScriptedTracker` class."""
    return ScriptedTracker


def moving_square(n=30, size=(120, 160), side=20):
    """A white square moving on black at (+2, +1) px per frame: trivially easy to track."""
    H, W = size
    frames, boxes = [], []
    for i in range(n):
        x, y = 20 + 2 * i, 30 + i
        f = np.zeros((H, W, 3), np.uint8)
        f[y:y + side, x:x + side] = 255
        frames.append(f)
        boxes.append([x, y, side, side])
    return FakeSequence(boxes, frames, name="square")


@pytest.fixture
def square_sequence():
    """:func:`moving_square`: ``square_sequence(n=30)`` builds one."""
    return moving_square


def write_otb(folder: Path, seq) -> Path:
    """Write ``seq`` (frames RGB, boxes 0-based) as an OTB folder: ``img/0001.jpg...`` and a
    1-based ``groundtruth_rect.txt``."""
    import cv2

    (folder / "img").mkdir(parents=True)
    for i in range(len(seq)):
        cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.jpg"), seq.frame(i)[..., ::-1])
    b = seq.boxes.copy()
    b[:, :2] += 1
    np.savetxt(folder / "groundtruth_rect.txt", b, fmt="%g", delimiter=",")
    return folder


@pytest.fixture
def otb_writer():
    """:func:`write_otb`."""
    return write_otb


# --- training helpers shared by tests/test_train.py and its DDP worker (tests/ddp_worker.py) ----

def _tiny_train_profile():
    from amnet_edu.config import ModelConfig

    return ModelConfig(name="tiny", template_size=16, roi_size=48, spotlight_kernels=(3, 5))


TINY_TRAIN = _tiny_train_profile()


def square_source(n=12, seed=0):
    """A 20 px yellow square wandering (up to 4 px a step) on a dark 180 x 140 frame."""
    from amnet_edu.train import FrameSource

    rng = np.random.default_rng(seed)
    frames, boxes = [], []
    x, y = 60.0, 50.0
    for t in range(n):
        f = np.full((140, 180, 3), 40, np.uint8)
        x += rng.uniform(-4, 4)
        y += rng.uniform(-4, 4)
        xi, yi = int(round(x)), int(round(y))
        f[yi:yi + 20, xi:xi + 20] = (240, 220, 30)
        frames.append(f)
        boxes.append((xi, yi, 20, 20))
    return FrameSource("squares", frames, np.array(boxes, float))


def tiny_train_config(out, steps, **changes):
    """A few-step float32 CPU training config at the tiny profile (the DDP worker uses it too)."""
    from amnet_edu.train import TrainConfig

    return TrainConfig(**{**dict(kind="amnet", profile=TINY_TRAIN, steps=steps, batch_size=4, val_every=1000, val_size=4,
                                 checkpoint_every=2, out_dir=str(out), device="cpu", seed=1), **changes})
