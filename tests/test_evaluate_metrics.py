"""Evaluation metrics against hand-computed cases (got10k/OTB conventions) and the VOT run."""
import numpy as np
import pytest

from amnet_edu.evaluate import metrics as M
from amnet_edu.evaluate import vot as V

NAN4 = [np.nan] * 4


def _seq_boxes(first, rest, n):
    """gt and tracker arrays: the init row (frame 0) is ``first``, then ``rest`` repeated."""
    return np.array([first] + [rest] * (n - 1), dtype=np.float64)


def test_identical_boxes_auc_is_20_over_21():
    gt = _seq_boxes([0, 0, 10, 10], [3, 4, 10, 10], 5)
    m = M.sequence_metrics(gt.copy(), gt)
    assert np.allclose(m["ious"][1:], 1.0)
    # 1 > 1 is false: the last of 21 thresholds fails even for a perfect tracker
    assert m["success_curve"][-1] == 0.0 and np.all(m["success_curve"][:-1] == 1.0)
    assert m["success_auc"] == pytest.approx(20 / 21)
    assert m["precision_20"] == 1.0
    assert m["n_frames"] == 4  # the first (init) frame is excluded


def test_disjoint_boxes_score_zero():
    gt = _seq_boxes([0, 0, 10, 10], [0, 0, 10, 10], 4)
    tr = _seq_boxes([0, 0, 10, 10], [50, 50, 10, 10], 4)
    m = M.sequence_metrics(tr, gt)
    assert m["success_auc"] == 0.0  # IoU 0 is not > 0
    assert m["precision_20"] == 0.0  # centre error 50*sqrt(2) px
    assert np.all(m["ious"][1:] == 0)


def test_partial_overlap_one_third():
    # (0,0,10,10) vs (5,0,10,10): intersection 50, union 150 -> 1/3
    o = M.frame_overlaps([[0, 0, 10, 10]] * 2, [[5, 0, 10, 10]] * 2)
    assert np.isnan(o[0]) and o[1] == pytest.approx(1 / 3)
    curve = M.success_curve([1 / 3])
    # 1/3 > t for t in 0, 0.05, ..., 0.30 (7 thresholds), not for 0.35 ...
    assert curve.tolist() == [1.0] * 7 + [0.0] * 14
    assert M.success_auc([1 / 3]) == pytest.approx(7 / 21)


def test_strict_greater_at_threshold_equal_to_iou():
    # IoU exactly 0.5: (0,0,10,10) vs (0,0,10,5) -> 50/100
    o = M.frame_overlaps([[0, 0, 10, 10]] * 2, [[0, 0, 10, 5]] * 2)[1]
    assert o == 0.5
    curve = M.success_curve([o])
    t = M.SUCCESS_THRESHOLDS
    assert curve[np.isclose(t, 0.5)][0] == 0.0  # 0.5 > 0.5 is false
    assert curve[np.isclose(t, 0.45)][0] == 1.0
    assert M.success_auc([o]) == pytest.approx(10 / 21)  # thresholds 0 .. 0.45


def test_nan_handling_absent_target_and_failed_box():
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], NAN4, [0, 0, 10, 10]], dtype=float)
    tr = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], NAN4], dtype=float)
    o = M.frame_overlaps(tr, gt)
    e = M.frame_center_errors(tr, gt)
    assert np.isnan(o[0]) and o[1] == 1.0 and np.isnan(o[2]) and o[3] == 0.0
    assert np.isnan(e[2]) and e[3] == np.inf
    m = M.sequence_metrics(tr, gt)
    assert m["n_frames"] == 2  # frame 0 (init) and frame 2 (absent) excluded
    assert m["success_auc"] == pytest.approx((20 / 21 + 0) / 2)
    assert m["precision_20"] == 0.5


def test_first_present_frame_is_the_init_frame():
    gt = np.array([NAN4, [0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    tr = np.array([NAN4, [0, 0, 10, 10], [50, 50, 10, 10]], dtype=float)
    m = M.sequence_metrics(tr, gt)
    assert m["n_frames"] == 1 and m["success_auc"] == 0.0


def test_precision_edge_exactly_20px():
    assert M.precision_at([20.0]) == 1.0  # at most 20 px counts
    assert M.precision_at([20.0 + 1e-9]) == 0.0
    assert M.precision_at([np.inf, 0.0]) == 0.5
    gt = _seq_boxes([0, 0, 10, 10], [0, 0, 10, 10], 2)
    tr = _seq_boxes([0, 0, 10, 10], [12, 16, 10, 10], 2)  # centre moved by (12, 16): 20 px
    assert M.frame_center_errors(tr, gt)[1] == 20.0
    assert M.sequence_metrics(tr, gt)["precision_20"] == 1.0


def test_empty_curves_are_nan():
    assert np.all(np.isnan(M.success_curve([np.nan, np.nan])))
    assert np.isnan(M.precision_at([]))


def test_mean_over_sequences_and_fps():
    gt = _seq_boxes([0, 0, 10, 10], [0, 0, 10, 10], 3)
    good = M.sequence_metrics(gt, gt, times=[0.1, 0.1, 0.1])
    bad = M.sequence_metrics(_seq_boxes([0, 0, 10, 10], [50, 50, 5, 5], 3), gt,
                             times=[0.2, np.nan, 0.3])
    assert good["fps"] == pytest.approx(10.0)
    overall = M.mean_over_sequences({"a": good, "b": bad})
    assert overall["success_auc"] == pytest.approx((20 / 21) / 2)
    assert overall["precision_20"] == pytest.approx(0.5)
    assert overall["fps"] == pytest.approx(5 / 0.8)  # pooled: 5 tracked frames in 0.8 s


def test_attribute_auc_pools_flagged_frames():
    gt = _seq_boxes([0, 0, 10, 10], [0, 0, 10, 10], 4)
    tr = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 10, 10], [0, 0, 10, 10]], float)
    occ = np.array([True, False, True, True])  # frame 0 flagged but excluded (init frame)
    m1 = M.sequence_metrics(tr, gt, attributes={"occlusion": occ})
    m2 = M.sequence_metrics(gt, gt, attributes={"occlusion": np.ones(4, bool),
                                                 "blur": np.zeros(4, bool)})
    att = M.attribute_auc({"a": m1, "b": m2})
    # pooled flagged frames: a -> IoU 0, 1; b -> 1, 1, 1
    assert att["occlusion"]["n_frames"] == 5 and att["occlusion"]["n_sequences"] == 2
    assert att["occlusion"]["auc"] == pytest.approx(M.success_auc([0, 1, 1, 1, 1]))
    assert "blur" not in att  # no flagged frame


# --------------------------------------------------------------------------- VOT-style run

def test_vot_failures_reinit_burn_in_and_accuracy(fake_sequence, scripted_tracker):
    n = 30
    gt = np.tile([10.0, 10.0, 10.0, 10.0], (n, 1))
    half = [10.0, 15.0, 10.0, 10.0]  # IoU 50/150 = 1/3 with the gt box
    script = {i: gt[i] for i in range(n)}
    script[3] = [80.0, 80.0, 10.0, 10.0]  # fail on frame 3 -> re-init on frame 8
    script[20] = [np.nan] * 4  # a NaN box fails too -> re-init on 25
    for i in (18, 19, 27, 28, 29):
        script[i] = half
    tr = scripted_tracker(script)
    r = V.run_vot(tr, fake_sequence(gt), skip=5, burn_in=10)
    assert r["failures"] == [3, 20] and r["n_failures"] == 2
    assert tr.inits == r["inits"] == [0, 8, 25]
    assert np.all(r["status"][4:8] == V.NOT_TRACKED)
    # accuracy frames: tracked, not failures, outside the 10-frame burn-ins [0,10), [8,18),
    # [25,35): frames 18, 19 (IoU 1/3) -> 1/3; frames 27-29 are in burn-in
    assert r["accuracy"] == pytest.approx(1 / 3)
    assert r["failures_per_100"] == pytest.approx(200 / 30)
    # segments: from 0: frames 1..3 (1, 1, 0) failed; from 8: 9..20 failed; from 25: to the end
    (s0, f0), (s1, f1), (s2, f2) = r["segments"]
    assert f0 and f1 and not f2
    assert s0.tolist() == [1.0, 1.0, 0.0]
    assert len(s1) == 12 and s1[-1] == 0.0
    assert len(s2) == 4 and s2[0] == 1.0


def test_vot_absent_target_is_not_a_failure_and_reinit_skips_absent(fake_sequence, scripted_tracker):
    n = 14
    gt = np.tile([10.0, 10.0, 10.0, 10.0], (n, 1))
    gt[2] = np.nan  # absent: whatever the tracker says is no failure
    gt[8] = np.nan  # the re-init frame (3 + 5) is absent -> the next present one (9)
    script = {i: gt[i] for i in range(n)}
    script[2] = [90.0, 90.0, 5.0, 5.0]
    script[3] = [70.0, 70.0, 5.0, 5.0]  # failure on frame 3
    tr = scripted_tracker(script)
    r = V.run_vot(tr, fake_sequence(gt), skip=5, burn_in=0)
    assert r["failures"] == [3] and tr.inits == [0, 9]
    assert np.isnan(r["overlaps"][2])
    assert r["accuracy"] == pytest.approx(1.0)  # frames 1, 10..13


def test_expected_overlap_curve_hand_computed():
    segments = [(np.array([1.0, 0.5, 0.0]), True),  # failed on its 3rd frame
                (np.array([1.0, 1.0]), False)]      # sequence ended after 2 frames
    phi = V.expected_overlap_curve(segments, 4)
    assert np.isnan(phi[0])
    assert phi[1] == pytest.approx((1.0 + 1.0) / 2)
    assert phi[2] == pytest.approx((0.75 + 1.0) / 2)
    assert phi[3] == pytest.approx(0.5)        # only the failed segment: (1 + .5 + 0) / 3
    assert phi[4] == pytest.approx(1.5 / 4)    # zero-padded after the failure
    value, rng, _ = V.eao(segments, lengths=[4, 4], length_range=(3, 4))
    assert rng == (3, 4) and value == pytest.approx((0.5 + 0.375) / 2)
    _, rng_default, _ = V.eao(segments, lengths=[10, 20, 30, 40])
    assert rng_default == (16, 32)  # 25th..75th percentiles (17.5, 32.5) -> 17-1 .. 33-1
