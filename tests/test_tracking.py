"""Crops, the tracking loop and checkpoints: geometry pinned by hand-made frames."""
import numpy as np
import pytest
import torch
from torch import nn

from amnet_edu.checkpoint import load_checkpoint, pretrained_path, save_checkpoint
from amnet_edu.config import ModelConfig
from amnet_edu.model import build_model, xcorr_fft
from amnet_edu.tracking import Tracker, TrackerConfig, crop_square, crop_to_frame, frame_to_crop, template_side


# --- crops ---------------------------------------------------------------------------------

def test_crop_geometry_by_hand():
    frame = np.zeros((100, 120, 3), np.uint8)
    frame[40:60, 50:70] = 255  # a 20 x 20 square centred at (60, 50)
    c = crop_square(frame, (60, 50), 40, 40)  # side 40 at scale 1: the square is at 10..29
    white = np.argwhere(c[..., 0] > 127)
    assert white.min(0).tolist() == [10, 10] and white.max(0).tolist() == [29, 29]
    # downscale by 2: the square covers 5..14
    c = crop_square(frame, (60, 50), 80, 40)
    white = np.argwhere(c[..., 0] > 127)
    assert white.min(0).tolist() == [15, 15] and white.max(0).tolist() == [24, 24]
    assert frame_to_crop(60, 50, (60, 50), 80, 40) == (20.0, 20.0)
    u, v = frame_to_crop(13.0, 77.5, (60, 50), 80, 40)
    assert np.allclose(crop_to_frame(u, v, (60, 50), 80, 40), (13.0, 77.5))


def test_crop_pads_with_mean_colour_outside_the_image():
    frame = np.full((50, 60, 3), (10, 20, 30), np.uint8)
    frame[:25] = (50, 60, 70)
    c = crop_square(frame, (0, 0), 40, 20)
    mean = frame.reshape(-1, 3).mean(0)
    assert np.allclose(c[0, 0], mean.round(), atol=1)
    assert c.shape == (20, 20, 3)
    # tiny and huge crops still give the requested size
    assert crop_square(frame, (30, 25), 0.5, 16).shape == (16, 16, 3)
    assert crop_square(frame, (30, 25), 5000, 16).shape == (16, 16, 3)
    with pytest.raises(ValueError):
        crop_square(frame, (30, 25), 0, 16)


def test_template_side_rule():
    assert template_side(10, 10, 0.5) == pytest.approx(20.0)
    assert template_side(30, 10, 0.0) == pytest.approx(np.sqrt(300))


# --- the tracking loop ---------------------------------------------------------------------

class _PixelANet(nn.Module):
    """The part of ANet the tracker calls directly: a backbone (here the pixels themselves)."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Identity()

    def prepare_template(self, features, roi_size):
        return features


class RawMatcher(nn.Module):
    """A test model with AMNet's contract whose response is the raw pixel correlation: it has no
    learned part, so a tracker built on it tracks only if the crop/cell/frame geometry is right."""

    kind = "amnet"

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.anet = _PixelANet()

    def forward(self, z_t, z_prev, x_prev, return_maps=False, template_features=None):
        x = x_prev if template_features is None else template_features
        z = z_t - z_t.mean((1, 2, 3), keepdim=True)
        x = x - x.mean((1, 2, 3), keepdim=True)
        o = torch.cat([xcorr_fft(z[b:b + 1], x[b:b + 1]) for b in range(len(z))])
        o = o / o.abs().amax((1, 2, 3), keepdim=True).clamp_min(1e-6)
        out = torch.sigmoid(4 * o)
        return (out, {"O_A": o, "roi_features": z_t}) if return_maps else out


class FlatResponse(RawMatcher):
    """A response map that is the same everywhere: only the Hann window can pick a cell."""

    def forward(self, z_t, z_prev, x_prev, return_maps=False, template_features=None):
        H = z_t.shape[-1] - x_prev.shape[-1] + 1
        out = torch.full((len(z_t), 1, H, H), 0.5)
        return (out, {"O_A": out}) if return_maps else out


def _square_sequence(n=25, size=(120, 160), side=16):
    frames, boxes = [], []
    for t in range(n):
        f = np.full(size + (3,), 30, np.uint8)
        x, y = 20 + 3 * t, 30 + 2 * t
        f[y:y + side, x:x + side] = (250, 200, 40)
        frames.append(f)
        boxes.append((x, y, side, side))
    return frames, np.array(boxes, float)


def test_tracker_geometry_follows_a_moving_square():
    from amnet_edu.boxes import iou

    frames, gt = _square_sequence()
    cfg = ModelConfig(name="test", template_size=16, roi_size=48)
    tr = Tracker(RawMatcher(cfg), TrackerConfig(scale_step=1.0, window_influence=0.0), device="cpu")
    boxes, seconds = tr.track(frames, gt[0])
    assert boxes.shape == (len(frames), 4) and seconds.shape == (len(frames),)
    assert np.allclose(boxes[0], gt[0])
    ious = iou(boxes, gt)
    assert ious.min() > 0.75, ious.round(2)


def test_tracker_inputs_and_errors():
    tr = Tracker(build_model("amnet", "cpu", seed=0), device="cpu")
    rgb = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    with pytest.raises(RuntimeError):
        tr.update(rgb)
    for bad, why in [((10, 10, 0, 5), "positive"), ((10, 10, -3, 5), "positive"),
                     ((np.nan, 10, 5, 5), "NaN"), ((500, 500, 10, 10), "outside"), ((1, 2, 3), "4 numbers")]:
        with pytest.raises(ValueError, match=why):
            tr.init(rgb, bad)
    with pytest.raises(ValueError, match="empty"):
        tr.init(np.zeros((0, 0, 3), np.uint8), (1, 1, 2, 2))
    tr.init(rgb, (100, 70, 40, 30))  # across the border: fine
    gray = rgb[..., 0]
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    noncontig = np.asfortranarray(rgb)[:, ::-1]
    other_size = np.random.default_rng(1).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    for f in (gray, rgba, noncontig, other_size, rgb.astype(np.float32) / 255):
        box = tr.update(f)
        assert len(box) == 4 and np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0
    box, maps = tr.update(rgb, return_maps=True)
    H = tr.cfg.response_size
    for k in ("response", "O_A", "O_M", "score"):
        assert maps[k].shape == (H, H), k
    assert maps["template"].shape == (32, 32, 3) and maps["roi"].shape == maps["roi_prev"].shape == (96, 96, 3)
    # a 1-pixel box is tracked at the smallest size the config allows, not at 1 pixel
    tr.init(rgb, (5, 5, 1, 1))
    assert tr.update(rgb)[2:] == (tr.config.min_size, tr.config.min_size)
    # a whole-frame box: the ROI (3x) reaches far past the border and is padded, the size stays
    tr.init(rgb, (0, 0, 120, 90))
    box, maps = tr.update(rgb, return_maps=True)
    assert box[2:] == (120.0, 90.0) and maps["roi"].shape == (96, 96, 3)


def test_anet_only_tracker_has_no_motion_map():
    tr = Tracker(build_model("anet", "cpu", seed=0), device="cpu")
    f = np.random.default_rng(0).integers(0, 255, (80, 80, 3), dtype=np.uint8)
    tr.init(f, (20, 20, 20, 20))
    _, maps = tr.update(f, return_maps=True)
    assert "O_M" not in maps and "O_A" in maps
    assert maps["roi_prev"] is None   # ANet-only never crops z_{t-1}


def test_scale_search_follows_a_growing_target():
    # A textured target (a photo patch) grows 4 % per frame on a still background: with the scale
    # search the box grows with it; with scale_step=1 (the paper: no size update) it stays put.
    import cv2
    from skimage import data as skdata

    bg = cv2.resize(skdata.camera(), (200, 200))
    bg = np.dstack([bg // 2 + 40] * 3).astype(np.uint8)
    tex = cv2.resize(skdata.astronaut(), (128, 128))
    frames, gt = [], []
    for t in range(16):
        side = int(round(30 * 1.04 ** t))
        f = bg.copy()
        a = 100 - side // 2
        f[a:a + side, a:a + side] = cv2.resize(tex, (side, side))
        frames.append(f)
        gt.append((a, a, side, side))
    from amnet_edu.boxes import iou

    gt = np.array(gt, float)
    fixed = Tracker.from_pretrained("amnet", config=TrackerConfig(scale="none")).track(frames, gt[0])[0]
    for cfg in (TrackerConfig(scale="template", scale_step=1.04), TrackerConfig(scale="pyramid", scale_step=1.04, template="anchor")):
        searched = Tracker.from_pretrained("amnet", config=cfg).track(frames, gt[0])[0]
        assert searched[-1, 2] > 1.05 * gt[0][2], (cfg.scale, searched[:, 2].round(1))   # the target grew 1.8x
        assert iou(searched[1:], gt[1:]).mean() > iou(fixed[1:], gt[1:]).mean(), cfg.scale


# --- checkpoints ---------------------------------------------------------------------------

def test_checkpoint_round_trip_and_errors(tmp_path):
    m = build_model("amnet", "cpu", seed=3)
    p = save_checkpoint(tmp_path / "m.pt", m, note="x")
    m2 = load_checkpoint(p)
    z = torch.rand(1, 3, 96, 96)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(m.eval()(z, z, x), m2(z, z, x))
    with pytest.raises(FileNotFoundError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(tmp_path / "junk.pt")
    raw = p.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(tmp_path / "trunc.pt")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an amnet-edu checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    # weights of one model under the other's kind: mismatch named
    data = torch.load(p, weights_only=True)
    data["kind"] = "anet"
    torch.save(data, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="do not match"):
        load_checkpoint(tmp_path / "mismatch.pt")
    data = torch.load(p, weights_only=True)
    data["config"] = dict(data["config"], template_size=64, roi_size=192, spotlight_kernels=[3, 7, 11])
    torch.save(data, tmp_path / "shape.pt")
    with pytest.raises(ValueError, match="do not match"):
        load_checkpoint(tmp_path / "shape.pt")
    with pytest.raises(ValueError):
        pretrained_path("siamfc")
    with pytest.raises(FileNotFoundError, match="amnet-edu train"):
        pretrained_path("amnet", "paper")


def test_anchor_strategy_matches_the_first_frames_template():
    # The tracker's response must be the network's output for the ROI at the previous state and
    # the template cut on the *first* box, whatever happened since.
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (80, 100, 3), dtype=np.uint8) for _ in range(4)]
    model = build_model("anet", "cpu", seed=0).eval()
    tr = Tracker(model, TrackerConfig(template="anchor", scale="none"), device="cpu")
    tr.init(frames[0], (30, 20, 24, 20))
    first = crop_square(frames[0], (42, 30), template_side(24, 20), 32)
    to_t = lambda p: torch.from_numpy(np.ascontiguousarray(p)).permute(2, 0, 1)[None].float() / 255
    for f in frames[1:3]:
        tr.update(f)
    _, maps = tr.update(frames[3], return_maps=True)
    assert np.array_equal(maps["template"], first)
    with torch.no_grad():
        ref = model(to_t(maps["roi"]), to_t(maps["roi"]), to_t(first))[0, 0].numpy()  # ANet-only: no z_prev
    assert np.allclose(maps["response"], ref, atol=1e-6)


def test_paper_strategy_cuts_the_template_at_the_last_state():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (80, 100, 3), dtype=np.uint8) for _ in range(3)]
    model = build_model("anet", "cpu", seed=0).eval()
    tr = Tracker(model, TrackerConfig.paper(), device="cpu")
    tr.init(frames[0], (30, 20, 24, 20))
    x, y, w, h = tr.update(frames[1])
    _, maps = tr.update(frames[2], return_maps=True)
    assert np.array_equal(maps["template"], crop_square(frames[1], (x + w / 2, y + h / 2), template_side(w, h), 32))


def test_parabola_sub_cell_offset_hand_computed():
    from amnet_edu.tracking.tracker import _parabola

    score = np.zeros((3, 3))
    score[:, 1] = (1.0, 3.0, 2.0)      # vertical: a=1, b=3, c=2 -> 0.5 (a - c) / (a - 2b + c) = 1/6
    score[1, :] = (2.5, 3.0, 2.5)      # horizontal: symmetric -> 0
    di, dj = _parabola(score, 1, 1)
    assert di == pytest.approx(1 / 6) and dj == 0.0
    assert _parabola(score, 0, 1) == (0.0, 0.0)   # on the border: no neighbour, no offset


def test_hann_window_keeps_the_box_still_on_a_flat_response():
    # A flat response says nothing: the default window picks the centre (the box stays where it
    # is); without a window the arg max is the first cell and the box jumps to the ROI's corner.
    f = np.random.default_rng(2).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    cfg = ModelConfig(name="test", template_size=16, roi_size=48)
    box0 = (60.0, 40.0, 20.0, 20.0)
    # (no online head: its map would not be flat; this test is about the window alone)
    still = Tracker(FlatResponse(cfg), TrackerConfig(online="none"), device="cpu")
    still.init(f, box0)
    assert np.allclose(still.update(f), box0)
    jumpy = Tracker(FlatResponse(cfg), TrackerConfig(window_influence=0.0, online="none"), device="cpu")
    jumpy.init(f, box0)
    assert not np.allclose(jumpy.update(f), box0)


@pytest.mark.parametrize("weight, cell", [(0.0, 1), (1.0, 1), (1.0, 2)])
def test_online_filter_geometry_and_zero_weight(weight, cell):
    """With weight 0 the online head changes nothing (the same boxes as without it); with
    weight 1 the correlation filter alone, on the pixels, follows the moving square: its
    label, learn position and map-to-grid geometry are right."""
    from amnet_edu.boxes import iou

    frames, gt = _square_sequence()
    cfg = ModelConfig(name="test", template_size=16, roi_size=48)
    base = TrackerConfig(scale_step=1.0, window_influence=0.0, online="none")
    tr = Tracker(RawMatcher(cfg), TrackerConfig(**{**base.__dict__, "online": "dcf", "online_weight": weight,
                                                   "online_rate": 0.1, "online_cell": cell}), device="cpu")
    boxes, _ = tr.track(frames, gt[0])
    if weight == 0.0:
        plain, _ = Tracker(RawMatcher(cfg), base, device="cpu").track(frames, gt[0])
        assert np.array_equal(boxes, plain)
    else:
        assert iou(boxes, gt).min() > 0.6, iou(boxes, gt).round(2)
    box, maps = tr.update(frames[-1], return_maps=True)
    assert maps["online"].shape == maps["response"].shape
    assert 0.0 <= maps["online"].min() and maps["online"].max() <= 1.0


def test_online_head_needs_the_models_roi_features():
    f = np.random.default_rng(3).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    cfg = ModelConfig(name="test", template_size=16, roi_size=48)
    tr = Tracker(FlatResponse(cfg), TrackerConfig(online="dcf"), device="cpu")
    tr.init(f, (60.0, 40.0, 20.0, 20.0))
    with pytest.raises(ValueError, match="roi_features"):
        tr.update(f)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_colour_model_geometry_and_zero_weight(weight):
    """With weight 0 the colour model changes nothing (the same boxes as without it); with
    weight 1 and a network that sees nothing (a flat map), the colour likelihood alone follows the
    moving yellow square: its box, learn position and map-to-grid geometry are right."""
    from amnet_edu.boxes import iou

    frames, gt = _square_sequence()
    cfg = ModelConfig(name="test", template_size=16, roi_size=48)
    base = TrackerConfig(scale_step=1.0, window_influence=0.0, online="none")
    coloured = TrackerConfig(**{**base.__dict__, "colour": "histogram", "colour_weight": weight})
    net = RawMatcher(cfg) if weight == 0.0 else FlatResponse(cfg)
    boxes, _ = Tracker(net, coloured, device="cpu").track(frames, gt[0])
    if weight == 0.0:
        plain, _ = Tracker(RawMatcher(cfg), base, device="cpu").track(frames, gt[0])
        assert np.array_equal(boxes, plain)
    else:
        assert iou(boxes, gt).min() > 0.6, iou(boxes, gt).round(2)
        # without it the flat map has no maximum to follow: the box stays in a corner of the ROI
        lost, _ = Tracker(net, base, device="cpu").track(frames, gt[0])
        assert iou(lost, gt)[-1] == 0.0
    tr = Tracker(net, coloured, device="cpu")
    tr.init(frames[0], gt[0])
    _, maps = tr.update(frames[1], return_maps=True)
    assert maps["colour"].shape == maps["response"].shape
    assert 0.0 <= maps["colour"].min() and maps["colour"].max() <= 1.0
