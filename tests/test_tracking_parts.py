"""The tracker's pluggable parts: template strategies, scale estimators, stream diagnostics."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from amnet_edu.tracking.scale import NoScale, PyramidScale, make_scale_estimator
from amnet_edu.tracking.template import make_template_strategy


def _counter(values):
    """``current()`` returning the next of ``values`` and counting its calls."""
    calls = []

    def current():
        calls.append(1)
        return torch.tensor(values[len(calls) - 1])
    return current, calls


def test_paper_strategy_replaces_every_frame():
    st = make_template_strategy("paper")
    st.start(torch.tensor(0.0))
    cur, calls = _counter([1.0, 2.0])
    assert float(st.features(cur, None)) == 1.0 and float(st.features(cur, 0.9)) == 2.0 and len(calls) == 2


def test_anchor_strategy_never_cuts_a_template():
    st = make_template_strategy("anchor")
    st.start(torch.tensor(5.0))
    cur, calls = _counter([1.0])
    assert float(st.features(cur, None)) == 5.0 and float(st.features(cur, 0.9)) == 5.0 and not calls


def test_moving_average_between_zero_and_one_with_a_gate():
    st = make_template_strategy("moving_average", rate=0.25, gate=0.5)
    st.start(torch.tensor(8.0))
    cur, calls = _counter([0.0, 4.0])
    assert float(st.features(cur, None)) == pytest.approx(6.0)     # 0.75 * 8 + 0.25 * 0
    assert float(st.features(cur, 0.4)) == pytest.approx(6.0)      # unsure frame: no update, no crop
    assert len(calls) == 1
    assert float(st.features(cur, 0.6)) == pytest.approx(5.5)      # 0.75 * 6 + 0.25 * 4


def test_anchor_recent_mixes_the_anchor_with_the_last_confident_template():
    st = make_template_strategy("anchor_recent", rate=0.4, gate=0.5)
    st.start(torch.tensor(10.0))
    cur, calls = _counter([0.0, 5.0])
    assert float(st.features(cur, None)) == pytest.approx(6.0)      # 0.6 * 10 + 0.4 * 0
    assert float(st.features(cur, 0.1)) == pytest.approx(6.0)       # recent kept
    assert float(st.features(cur, 0.7)) == pytest.approx(8.0)       # 0.6 * 10 + 0.4 * 5


def test_strategy_and_estimator_names_are_checked():
    with pytest.raises(ValueError, match="anchor"):
        make_template_strategy("first")
    with pytest.raises(ValueError, match="rate"):
        make_template_strategy("moving_average", rate=1.5)
    with pytest.raises(ValueError, match="pyramid"):
        make_scale_estimator("siamfc")
    from amnet_edu.tracking import TrackerConfig
    for match, bad in [("template strategy", dict(template="first")), ("scale estimator", dict(scale="siamfc")),
                       ("online head", dict(online="mosse")), ("online_weight", dict(online="dcf", online_weight=1.5)),
                       ("online_rate", dict(online="dcf", online_rate=0.0)), ("colour model", dict(colour="hsv")),
                       ("colour_weight", dict(colour="histogram", colour_weight=1.5)),
                       ("bins", dict(colour="histogram", colour_bins=12))]:
        with pytest.raises(ValueError, match=match):
            TrackerConfig(**bad)
    assert TrackerConfig.paper().online == "none"
    assert TrackerConfig.paper().colour == "none"


def test_pyramid_scale_choice_penalty_and_damping():
    est = PyramidScale(step=1.25, penalty=0.9, lr=0.5)
    assert est.factors == (1.0, 0.8, 1.25)
    scores = np.zeros((3, 5, 5))
    scores[0, 2, 2], scores[2, 1, 3] = 0.80, 0.85          # 0.85 * 0.9 < 0.80: stay at scale 1
    assert est.choose(scores) == (0, 2, 2)
    scores[2, 1, 3] = 0.95                                  # 0.95 * 0.9 > 0.80: the bigger ROI wins
    assert est.choose(scores) == (2, 1, 3)
    size = np.array([20.0, 10.0])
    assert np.allclose(est.new_size(size, 2, None), size * (0.5 + 0.5 * 1.25))
    assert np.allclose(est.new_size(size, 0, None), size)
    assert PyramidScale(step=1.0).factors == (1.0,) and NoScale().new_size(size, 0, None) is size


def test_diagnostics_frame_differencing_finds_a_moving_square():
    # A finely textured square moves 3 px per frame on a still, smooth background: plain
    # differencing of the two ROIs peaks on it (a uniform square would light up only its leading
    # and trailing edges); staying put ("no_motion") misses with a large ROI error; an untrained
    # AMNet's maps are reported for each stream.
    import cv2

    from amnet_edu.evaluate.diagnostics import DiagnosticsConfig, MAPS, diagnose, format_diagnostics
    from amnet_edu.model import build_model
    from amnet_edu.train.triplets import FrameSource

    rng = np.random.default_rng(0)
    bg = cv2.GaussianBlur(rng.integers(0, 255, (140, 180, 3), dtype=np.uint8), (0, 0), 8)
    texture = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    frames, boxes = [], []
    for t in range(14):
        f = bg.copy()
        x, y = 40 + 3 * t, 60
        f[y:y + 16, x:x + 16] = texture
        frames.append(f)
        boxes.append((x, y, 16.0, 16.0))
    src = FrameSource("square", frames, np.array(boxes))
    model = build_model("amnet", "cpu", seed=0).eval()
    res = diagnose(model, [src], DiagnosticsConfig(pairs=8, error=0.6, template_gap=2))
    o = res["overall"]
    assert set(o) == set(MAPS) | {"pairs"} and o["pairs"] == 8
    assert o["frame_diff"] >= 0.75, o
    assert o["no_motion"] <= 0.5, o
    # the paper's pooling pyramid turns that blob into a plateau whose maximum is off the square
    assert o["diff_pyramid"] <= 0.25, o
    assert "square" in format_diagnostics(res) and "overall" in format_diagnostics(res)
    # the overlap of O_A's and O_M's hits, pooled, agrees with their rates
    ov = res["overlap"]["overall"]
    assert ov["both"] + ov["appearance_only"] == round(o["O_A"] * 8)
    assert ov["both"] + ov["motion_only"] == round(o["O_M"] * 8)
    assert sum(ov[k] for k in ("both", "appearance_only", "motion_only", "neither")) == 8
    assert ov["either"] >= max(o["O_A"], o["O_M"])
    anet = diagnose(build_model("anet", "cpu", seed=0).eval(), [src], DiagnosticsConfig(pairs=4))
    assert "O_M" not in anet["overall"] and "overlap" not in anet


def test_camera_shift_measures_the_background_not_the_target():
    # Two ROIs of a textured scene displaced by (5, -3) px, with a textured 40 px square at the
    # centre displaced by (-4, 2) instead: with the target's neighbourhood masked out (its side
    # given) the estimate is the background's; without the mask (side 1) the square wins.
    import cv2

    from amnet_edu.evaluate.diagnostics import camera_shift

    rng = np.random.default_rng(1)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (240, 240, 3), dtype=np.uint8), (0, 0), 1.5)
    noise = cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX)   # scene and square: one contrast
    bg, sq = noise[:160, :160], noise[180:220, 180:220]
    R = 96

    def roi(ox, oy, sx, sy):   # the scene seen from offset (ox, oy), the square moved by (sx, sy)
        z = bg[30 - oy:30 - oy + R, 30 - ox:30 - ox + R].copy()
        z[28 + sy:68 + sy, 28 + sx:68 + sx] = sq
        return z

    prev, cur = roi(0, 0, 0, 0), roi(5, -3, -4, 2)
    assert camera_shift(prev, cur, 40) == pytest.approx((5, -3), abs=0.5)
    assert camera_shift(prev, cur, 1) == pytest.approx((-4, 2), abs=1.0)
    assert camera_shift(prev, prev, 40) == pytest.approx((0.0, 0.0), abs=0.05)
    with pytest.raises(ValueError, match="square ROIs"):
        camera_shift(prev, cur[:, :90], 40)


def test_diagnostics_aligned_differencing_finds_a_square_under_a_panning_camera():
    # The camera pans 4 px per frame over a textured scene while a textured square moves on its
    # own: plain differencing lights up the whole ROI and misses the square; after the
    # compensation (diagnostics' "diff_aligned") only the square is left.
    import cv2

    from amnet_edu.evaluate.diagnostics import DiagnosticsConfig, diagnose
    from amnet_edu.model import build_model
    from amnet_edu.train.triplets import FrameSource

    rng = np.random.default_rng(2)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (0, 0), 1.5)
    noise = cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX)
    scene, texture = noise[:200], noise[210:226, :16]
    frames, boxes = [], []
    for t in range(14):
        f = scene[30:170, 4 * t:4 * t + 180].copy()    # the view moves right: content moves left
        x, y = 70 + 2 * t, 60                           # the square moves right in the frame
        f[y:y + 16, x:x + 16] = texture
        frames.append(f)
        boxes.append((x, y, 16.0, 16.0))
    src = FrameSource("pan", frames, np.array(boxes))
    res = diagnose(build_model("anet", "cpu", seed=0).eval(), [src],
                   DiagnosticsConfig(pairs=8, error=0.3, template_gap=2))
    o = res["overall"]
    assert o["diff_aligned"] >= 0.75, o
    assert o["frame_diff"] <= 0.25, o


def test_overlap_counts_where_two_maps_hit_by_hand():
    from amnet_edu.evaluate.diagnostics import overlap

    a = np.array([1, 1, 0, 0, 1, 0], bool)
    m = np.array([1, 0, 1, 0, 0, 0], bool)
    o = overlap(a, m)
    assert (o["both"], o["appearance_only"], o["motion_only"], o["neither"]) == (1, 2, 1, 2)
    assert o["either"] == 4 / 6          # an oracle picking the hitting map: 4 of 6 pairs
    with pytest.raises(ValueError, match="shape"):
        overlap(a, m[:3])


def test_prepared_template_gives_the_same_maps_and_broadcasts_over_rois():
    from amnet_edu.model import build_model

    model = build_model("amnet", "cpu", seed=0).eval()
    g = torch.Generator().manual_seed(0)
    z = torch.rand(3, 3, 96, 96, generator=g)
    zp = torch.rand(3, 3, 96, 96, generator=g)
    x = torch.rand(1, 3, 32, 32, generator=g)
    with torch.no_grad():
        xf = model.anet.backbone(x)
        prepared = model.anet.prepare_template(xf, 96)
        ref = model(z, zp, x.expand(3, -1, -1, -1), template_features=xf.expand(3, -1, -1, -1))
        out = model(z, zp, x.expand(3, -1, -1, -1), template_features=prepared)
    assert torch.allclose(out, ref, atol=1e-5), float((out - ref).abs().max())
    from amnet_edu.model.xcorr import xcorr_with_spectrum
    with pytest.raises(ValueError, match="does not fit"):
        xcorr_with_spectrum(torch.rand(1, 190, 64, 64), prepared.spectrum, (32, 32), model.cfg.level_channels)


def test_paper_pyramid_moves_a_blobs_maximum_to_its_plateaus_edge():
    # One square blob of motion, 16 px wide, centred at ROI pixel (47.5, 67.5): the cascaded max
    # pools spread it to a plateau ~50 px wide, and enhancement - suppression is largest where the
    # averages fall off, at the plateau's edge, more than the blob's half-width from its centre.
    import torch

    from amnet_edu.config import get_config
    from amnet_edu.model.suppression import SuppressionEnhancement

    d = torch.zeros(1, 1, 96, 96)
    d[..., 40:56, 60:76] = 1.0
    out = SuppressionEnhancement(get_config("cpu"))(d)[0, 0]
    i, j = divmod(int(out.argmax()), 96)
    assert np.hypot(i - 47.5, j - 67.5) > 8
    assert (out > 0.5 * out.max()).sum() > 4 * 16 * 16      # the plateau: over 4x the blob's area


def _smooth_features(C=4, R=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, C, R, R, generator=g)
    # smoothed a little, so every frequency is not equally loud (like real features)
    return torch.nn.functional.avg_pool2d(z, 3, 1, 1, count_include_pad=False)


def test_correlation_filter_answers_its_label_and_moves_with_the_content():
    from amnet_edu.tracking.online import CorrelationFilterHead

    z = _smooth_features()
    head = CorrelationFilterHead(lam=1e-6, sigma=0.2, window=False)
    pos, size = (12.5, 20.5), 10.0             # the peak on pixel (row 20, col 12)
    head.start(z, pos, size)
    head.prepare(z)
    r = head.response()[0]
    # one frame, a tiny regulariser: the filter reproduces its label on its own features
    assert torch.allclose(r, head.label(32, pos, size), atol=1e-3)
    assert divmod(int(r.argmax()), 32) == (20, 12)
    # content moved by (3, -5) pixels (circularly): the map moves with it, exactly
    head.prepare(torch.roll(z, shifts=(3, -5), dims=(-2, -1)))
    moved = head.response()[0]
    assert torch.allclose(moved, torch.roll(r, shifts=(3, -5), dims=(-2, -1)), atol=1e-4)
    assert divmod(int(moved.argmax()), 32) == (23, 7)


def test_correlation_filter_running_average_and_batched_maps():
    from amnet_edu.tracking.online import CorrelationFilterHead

    z1, z2 = _smooth_features(seed=1), _smooth_features(seed=2)
    # rate 1: learning on new features replaces the filter (the same as starting there)
    a = CorrelationFilterHead(rate=1.0)
    a.start(z1, (16, 16), 8.0)
    a.prepare(torch.cat([z1, z2]))
    a.learn(1, (10, 14), 8.0)
    b = CorrelationFilterHead()
    b.start(z2, (10, 14), 8.0)
    a.prepare(z2)
    b.prepare(z2)
    assert torch.allclose(a.response(), b.response(), atol=1e-5)
    # batched maps: one per ROI, each the map of that ROI alone
    a.prepare(torch.cat([z1, z2]))
    both = a.response()
    a.prepare(z1)
    assert both.shape == (2, 32, 32) and torch.allclose(both[0], a.response()[0], atol=1e-5)
    # a slow rate keeps the first fit mostly: the map on z1 still peaks at its first position
    c = CorrelationFilterHead(rate=0.1, window=False)
    c.start(z1, (16.5, 16.5), 8.0)
    c.prepare(z2)
    c.learn(0, (5.5, 5.5), 8.0)
    c.prepare(z1)
    assert divmod(int(c.response()[0].argmax()), 32) == (16, 16)


def test_online_head_errors():
    from amnet_edu.tracking.online import CorrelationFilterHead, make_online_head

    with pytest.raises(ValueError, match="online head"):
        make_online_head("mosse")
    with pytest.raises(ValueError, match="rate"):
        CorrelationFilterHead(rate=0.0)
    head = CorrelationFilterHead()
    with pytest.raises(RuntimeError, match="start"):
        head.response()
    with pytest.raises(ValueError, match=r"\[1, C, R, R\]"):
        head.start(_smooth_features().repeat(2, 1, 1, 1), (5, 5), 4.0)
    with pytest.raises(ValueError, match="ROI features"):
        head.prepare(torch.zeros(1, 4, 32, 30))
    assert not make_online_head("none").active


def test_correlation_filter_on_feature_cells_peaks_at_the_target_pixel():
    from amnet_edu.tracking.online import CorrelationFilterHead

    z = _smooth_features(R=32)
    head = CorrelationFilterHead(lam=1e-6, sigma=0.2, window=False, cell=2)
    head.start(z, (12.0, 20.0), 10.0)          # a cell corner: cells (row 9/10, col 5/6) meet
    head.prepare(z)
    r = head.response()[0]
    assert r.shape == (32, 32)                 # resampled back to the ROI's pixels
    assert divmod(int(r.argmax()), 32) in {(19, 11), (19, 12), (20, 11), (20, 12)}
    # content moved by whole cells moves the map by as many pixels (away from the border,
    # where the resampling clamps instead of wrapping)
    head.prepare(torch.roll(z, shifts=(4, -6), dims=(-2, -1)))
    moved = head.response()[0]
    rolled = torch.roll(r, shifts=(4, -6), dims=(-2, -1))
    assert torch.allclose(moved[2:-2, 2:-2], rolled[2:-2, 2:-2], atol=1e-4)
    assert int(moved.argmax()) == int(rolled.argmax())
    with pytest.raises(ValueError, match="multiple of the cell"):
        CorrelationFilterHead(cell=3).start(z, (12, 20), 10.0)
    with pytest.raises(ValueError, match="cell"):
        CorrelationFilterHead(cell=0)


def test_inside_frame_marks_the_crop_pixels_taken_from_the_frame():
    from amnet_edu.tracking.crops import crop_square, inside_frame

    frame = np.full((10, 10, 3), 200, np.uint8)
    ok = inside_frame(frame.shape, (5.0, 5.0), 20.0, 20)   # crop pixel k <-> frame x = k - 5 + 0.5
    assert ok.shape == (20, 20)
    assert np.array_equal(np.argwhere(ok.any(0)).ravel(), np.arange(5, 15))
    assert np.array_equal(ok, ok.T) and ok.sum() == 100
    crop = crop_square(frame, (5.0, 5.0), 20.0, 20, pad_value=(0, 0, 0))
    assert (crop[ok] == 200).all() and (crop[~ok] == 0).all()


def _two_colour_roi(R=32, x0=10, y0=12, w=8, h=6):
    roi = np.zeros((R, R, 3), np.uint8)
    roi[...] = (0, 0, 255)                       # blue background
    roi[y0:y0 + h, x0:x0 + w] = (255, 0, 0)      # a red w x h target
    return roi, (x0 + w / 2, y0 + h / 2), (w, h)


def test_colour_histogram_likelihood_and_response_by_hand():
    from amnet_edu.tracking.colour import ColourHistogram, box_mask

    m = box_mask(8, (4.0, 4.0), (2.0, 2.0))            # centres 3.5 and 4.5 are inside
    assert np.array_equal(np.argwhere(m), [[3, 3], [3, 4], [4, 3], [4, 4]])
    model = ColourHistogram(bins=16, rate=0.5)
    assert model.bin_index(np.array([[255, 0, 0]], np.uint8)).item() == 15 * 256
    assert model.bin_index(np.array([[17, 33, 255]], np.uint8)).item() == (1 * 16 + 2) * 16 + 15
    roi, pos, size = _two_colour_roi()
    model.start(roi, pos, size)
    P = model.likelihood()
    assert P[15 * 256] == 1.0 and P[15] == 0.0 and P.sum() == 1.0   # red: target, blue: not
    r = model.response(roi[None], [size])[0]
    # the box has odd sides (9 x 7 for the 8 x 6 target, centred on its pixel): at best it holds
    # the whole target, 48 of its 63 pixels, where it covers columns 10-17 and rows 12-17,
    # i.e. centred on columns 13-14 and rows 14-15
    assert r.shape == (32, 32) and r.max() == pytest.approx(48 / 63)
    best = np.argwhere(np.isclose(r, 48 / 63))
    assert sorted(map(tuple, best)) == [(14, 13), (14, 14), (15, 13), (15, 14)]
    # a second frame with a green target, learned at rate 0.5: red and green each have
    # target density 0.5 and no background, blue only background
    roi2 = roi.copy()
    roi2[roi2[..., 0] == 255] = (0, 255, 0)
    model.learn(roi2, pos, size)
    P = model.likelihood()
    assert P[15 * 256] == 1.0 and P[15 * 16] == 1.0 and P[15] == 0.0
    assert model._fg[15 * 256] == pytest.approx(0.5) and model._bg[15] == pytest.approx(1.0)


def test_colour_histogram_ignores_padding_and_checks_its_inputs():
    from amnet_edu.tracking.colour import ColourHistogram, make_colour_model

    roi, pos, size = _two_colour_roi()
    valid = np.ones((32, 32), bool)
    valid[:, 24:] = False
    roi[:, 24:] = (255, 0, 0)                        # padding in the target's colour
    model = ColourHistogram()
    model.start(roi, pos, size, valid)
    assert model.likelihood()[15 * 256] == 1.0       # not counted as background
    r = model.response(roi[None], [size], valid[None])[0]
    assert r[:, 28:].max() == 0.0 and r.max() == pytest.approx(48 / 63)   # padding scores 0
    with pytest.raises(ValueError, match="uint8"):
        model.bin_index(roi.astype(np.float32))
    with pytest.raises(ValueError, match="bins"):
        ColourHistogram(bins=24)
    with pytest.raises(ValueError, match="rate"):
        ColourHistogram(rate=0.0)
    with pytest.raises(RuntimeError, match="start"):
        ColourHistogram().response(roi[None], [size])
    with pytest.raises(ValueError, match="colour model"):
        make_colour_model("hsv")
    assert not make_colour_model("none").active
