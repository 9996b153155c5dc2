"""OPE runs: the run loop, the got10k results layout and its cache, OpenCV baselines, workers."""
from pathlib import Path

import numpy as np
import pytest

from amnet_edu.evaluate import (evaluate_ope, format_table, make_tracker, read_result, run_ope,
                                write_result)
from amnet_edu.evaluate.opencv_trackers import OpenCVTracker, to_opencv_box


@pytest.fixture
def tiny(fake_sequence):
    """``tiny(n, first_absent)``: boxes moving 1 px per frame, the first ``first_absent`` absent."""

    def make(n=6, first_absent=0):
        gt = np.array([[1.0 + i, 2.0, 3.0, 4.0] for i in range(n)])
        gt[:first_absent] = np.nan
        return fake_sequence(gt, name="tiny")

    return make


def test_run_ope_scripted_tracker(tiny, scripted_tracker):
    seq = tiny()
    script = {i: [10.0 + i, 0.0, 5.0, 5.0] for i in range(6)}
    tr = scripted_tracker(script)
    run = run_ope(tr, seq)
    assert run["boxes"].shape == (6, 4) and run["times"].shape == (6,)
    assert np.array_equal(run["boxes"][0], seq.boxes[0])  # row 0 is the GT init box
    assert np.array_equal(run["boxes"][1:], np.array([script[i] for i in range(1, 6)]))
    assert tr.inits == [0] and np.array_equal(tr.init_boxes[0], seq.boxes[0])
    assert np.all(np.isfinite(run["times"])) and np.all(run["times"] >= 0)
    assert run["lost"] is None  # the fake tracker does not report failures


def test_run_ope_starts_at_first_present_box(tiny, scripted_tracker):
    seq = tiny(first_absent=2)
    tr = scripted_tracker({i: [0.0, 0.0, 5.0, 5.0] for i in range(6)})
    run = run_ope(tr, seq)
    assert tr.inits == [2] and np.array_equal(tr.init_boxes[0], seq.boxes[2])
    assert np.all(np.isnan(run["boxes"][:2])) and np.all(np.isnan(run["times"][:2]))
    assert np.array_equal(run["boxes"][2], seq.boxes[2])


def test_results_layout_roundtrip(tmp_path):
    boxes = np.array([[1.25, 2.5, 30.125, 40.0], [np.nan] * 4, [0.001, 0.0, 1.0, 2.0]])
    times = np.array([0.0123, np.nan, 0.5])
    lost = np.array([False, False, True])
    write_result(tmp_path, "bench", "T", "seqA", boxes, times, lost)
    txt = (tmp_path / "bench" / "T" / "seqA.txt").read_text().splitlines()
    assert txt[0] == "1.250,2.500,30.125,40.000"  # got10k: comma-separated, 0-based, %.3f
    assert (tmp_path / "bench" / "T" / "times" / "seqA_time.txt").is_file()
    back = read_result(tmp_path, "bench", "T", "seqA")
    np.testing.assert_array_equal(back["boxes"], boxes)
    np.testing.assert_allclose(back["times"], times, equal_nan=True)
    np.testing.assert_array_equal(back["lost"], lost)


def test_evaluate_ope_caches_results(tmp_path, tiny, scripted_tracker):
    seq = tiny()
    tr = scripted_tracker({i: seq.boxes[i] for i in range(6)})  # a perfect tracker
    r1 = evaluate_ope([tr], [seq], results_dir=tmp_path, benchmark="b")
    assert tr.calls == 6
    assert (tmp_path / "b" / "Scripted" / "tiny.txt").is_file()
    assert r1["Scripted"]["success_auc"] == pytest.approx(20 / 21)
    r2 = evaluate_ope([tr], [seq], results_dir=tmp_path, benchmark="b")
    assert tr.calls == 6  # reused from disk, not run again
    assert r2["Scripted"]["success_auc"] == r1["Scripted"]["success_auc"]
    evaluate_ope([tr], [seq], results_dir=tmp_path, benchmark="b", overwrite=True)
    assert tr.calls == 12
    table = format_table(r2)
    assert "| Scripted | 0.952 | 1.000 |" in table and "tiny" in table.splitlines()[0]


def test_opencv_box_rounds_to_nearest():
    # nearest, per number: what reproduces the OpenCV reference scores of baselines.md
    assert to_opencv_box([239.46, 161.64, 122.23, 117.08]) == (239, 162, 122, 117)
    assert to_opencv_box([10.0, 5.0, 3.0, 4.0]) == (10, 5, 3, 4)
    assert to_opencv_box([-3.0, 2.0, 10.0, 10.0], (20, 20, 3)) == (0, 2, 7, 10)  # clipped
    assert to_opencv_box([0.0, 0.0, 0.4, 0.4]) == (0, 0, 1, 1)  # never empty


def test_make_tracker_names():
    assert make_tracker("CSRT").name == "CSRT" and make_tracker("kcf").name == "KCF"
    with pytest.raises(ValueError, match="unknown tracker"):
        make_tracker("siamfc")


def test_csrt_tracks_an_easy_square(tmp_path, square_sequence):
    seq = square_sequence()
    res = evaluate_ope(["csrt"], [seq], results_dir=tmp_path)
    assert res["CSRT"]["success_auc"] > 0.5
    assert res["CSRT"]["precision_20"] > 0.9
    assert res["CSRT"]["fps"] > 0


def test_opencv_failure_holds_last_box(square_sequence):
    seq = square_sequence(n=4)
    tr = OpenCVTracker("KCF")
    tr.init(seq.frame(0), seq.boxes[0])
    prev = tr.update(seq.frame(1))
    blank = np.zeros_like(seq.frame(2))  # the target vanishes: KCF reports failure
    held = tr.update(blank)
    assert not tr.last_ok and tr.lost_frames == 1
    assert np.array_equal(held, prev)


def test_workers_give_the_same_boxes(tmp_path, square_sequence, otb_writer):
    from amnet_edu.data import load_sequence

    seq = load_sequence(otb_writer(tmp_path / "data" / "square", square_sequence()))
    np.testing.assert_allclose(seq.boxes, square_sequence().boxes)
    r1 = evaluate_ope(["kcf"], [seq], results_dir=tmp_path / "r1")
    r2 = evaluate_ope(["kcf"], [seq], results_dir=tmp_path / "r2", workers=2)
    b1 = read_result(tmp_path / "r1", "shared", "KCF", "square")["boxes"]
    b2 = read_result(tmp_path / "r2", "shared", "KCF", "square")["boxes"]
    np.testing.assert_array_equal(b1, b2)
    assert r1["KCF"]["success_auc"] == r2["KCF"]["success_auc"] > 0.5


def test_kcf_smoke_on_real_dudek(tmp_path, shared_data):
    from amnet_edu.data import load_sequence

    if not (shared_data / "otb_Dudek_first20").is_dir():
        pytest.skip(f"otb_Dudek_first20 not found in {shared_data}")
    seq = load_sequence(shared_data / "otb_Dudek_first20")
    res = evaluate_ope(["kcf"], [seq], results_dir=tmp_path)
    m = res["KCF"]["sequences"]["otb_Dudek_first20"]
    assert m["n_frames"] == 19  # 20 frames, the first excluded
    assert m["success_auc"] > 0.3  # Dudek's first 20 frames are easy (a face, little motion)


def test_plots_legends(tmp_path, tiny, scripted_tracker):
    from amnet_edu.evaluate import attribute_plot, precision_plot, success_plot

    seq = tiny()
    seq.attributes = {"occlusion": np.array([0, 1, 1, 0, 0, 1], bool)}
    tr = scripted_tracker({i: seq.boxes[i] for i in range(6)})
    res = evaluate_ope([tr], [seq], results_dir=tmp_path)
    labels = [t.get_text() for t in success_plot(res).axes[0].get_legend().get_texts()]
    assert labels == ["Scripted [0.952]"]
    labels = [t.get_text() for t in precision_plot(res).axes[0].get_legend().get_texts()]
    assert labels == ["Scripted [1.000]"]
    fig = attribute_plot(res)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["occlusion"]
    fig.savefig(tmp_path / "a.png")  # renders without a display


def test_cli_prints_table(tmp_path, capsys, square_sequence, otb_writer):
    from amnet_edu.evaluate.report import main

    otb_writer(tmp_path / "data" / "square", square_sequence())
    rc = main(["--trackers", "kcf", "--data", str(tmp_path / "data"),
               "--results", str(tmp_path / "res")])
    out = capsys.readouterr().out
    assert rc == 0 and "| KCF |" in out and "square" in out
    assert (tmp_path / "res" / "data" / "KCF" / "square.txt").is_file()
    assert main(["--trackers", "kcf", "--data", str(tmp_path / "res")]) == 2  # no sequences
    # --tre: the TRE table only (its first start is the OPE run), segments cached like OPE's
    assert main(["--trackers", "kcf", "--data", str(tmp_path / "data"), "--results", str(tmp_path / "res"),
                 "--tre", "2"]) == 0
    out = capsys.readouterr().out
    assert "TRE success AUC" in out and "OPE on" not in out and "| KCF |" in out
    assert (tmp_path / "res" / "data_tre" / "KCF" / "square@15.txt").is_file()
    import json

    assert main(["--trackers", "kcf", "--data", str(tmp_path / "data"), "--results", str(tmp_path / "res"),
                 "--tre", "2", "--json", str(tmp_path / "s.json")]) == 0
    saved = json.loads((tmp_path / "s.json").read_text())
    assert "ope" not in saved and saved["meta"]["tre_starts"] == 2
    kcf = saved["tre"]["KCF"]
    assert sorted(kcf["sequences"]["square"]["starts"]) == ["0", "15"]
    assert kcf["success_auc"] == pytest.approx(sum(kcf["sequences"]["square"]["starts"].values()) / 2)


def test_checkpoint_file_is_a_tracker_name(tmp_path):
    from amnet_edu.checkpoint import save_checkpoint
    from amnet_edu.evaluate.registry import display_name, make_tracker
    from amnet_edu.model import build_model

    path = save_checkpoint(tmp_path / "myrun" / "best.pt", build_model("anet", "cpu", seed=0))
    assert display_name(str(path)) == "myrun_best"
    tracker = make_tracker(str(path))
    assert tracker.name == "myrun_best" and tracker.model.kind == "anet"
    with pytest.raises(ValueError):
        display_name(str(tmp_path / "missing.pt"))


# --- tuning TrackerConfig ------------------------------------------------------------------

def test_parse_setting_converts_to_the_field_type():
    from amnet_edu.evaluate.tune import parse_setting

    assert parse_setting("scale_radius=0,2") == ("scale_radius", [0, 2])
    assert parse_setting("window_influence=0.1,0.4") == ("window_influence", [0.1, 0.4])
    with pytest.raises(ValueError, match="unknown TrackerConfig field"):
        parse_setting("windw=0.1")
    with pytest.raises(ValueError, match="name=v1"):
        parse_setting("window_influence")


def test_tune_keeps_the_best_trial_and_runs_each_setting_once(fake_sequence):
    from dataclasses import asdict

    from amnet_edu.data import load_sequence
    from amnet_edu.evaluate.tune import tune
    from amnet_edu.tracking import TrackerConfig

    seq = load_sequence(Path(__file__).parents[1] / "data_samples" / "synthetic_pan")
    seq = fake_sequence(seq.boxes[:8], [seq.frame(i) for i in range(8)], name=seq.name)
    grid = {"window_influence": [0.25, 0.6], "scale_step": [1.04]}  # 0.25 is the default: a repeat
    best, trials = tune("amnet", [seq], grid, log=None)
    # coordinate-wise: base; window_influence=0.6 (0.25 is the base: not run again); then
    # scale_step=1.04 on top of the better window_influence
    base = asdict(TrackerConfig())
    assert base["window_influence"] == 0.25
    assert [t["config"] for t in trials[:2]] == [base, dict(base, window_influence=0.6)]
    wi = 0.6 if trials[1]["mean"] > trials[0]["mean"] else 0.25
    assert len(trials) == 3 and trials[2]["config"] == dict(base, window_influence=wi, scale_step=1.04)
    assert asdict(best) == max(trials, key=lambda t: t["mean"])["config"]  # the first best on a tie
    with pytest.raises(ValueError, match="unknown TrackerConfig fields"):
        tune("amnet", [seq], {"nope": [1]})


def test_make_tracker_passes_a_config_to_the_networks_only():
    from amnet_edu.tracking import TrackerConfig

    cfg = TrackerConfig(window_influence=0.1)
    assert make_tracker("amnet", cfg).config == cfg
    assert make_tracker("anet").config == TrackerConfig()
    with pytest.raises(ValueError, match="OpenCV tracker"):
        make_tracker("csrt", cfg)


def test_scoring_in_worker_processes_gives_the_in_process_scores():
    # Two processes of one thread each score what one thread scores in this process, sequence by
    # sequence (results matched to their sequences whatever order the workers finish in).
    import torch

    from amnet_edu.data import load_sequence
    from amnet_edu.evaluate.tune import score_config
    from amnet_edu.tracking import TrackerConfig

    root = Path(__file__).parents[1] / "data_samples"
    seqs = [load_sequence(root / n) for n in ("synthetic_pan", "synthetic_illum")]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here = score_config("amnet", TrackerConfig(), seqs)
    finally:
        torch.set_num_threads(threads)
    assert score_config("amnet", TrackerConfig(), seqs, workers=2) == here
    assert list(here["per_sequence"]) == ["synthetic_pan", "synthetic_illum"]


def test_tre_starts_and_scores_by_hand(tmp_path, tiny, scripted_tracker):
    from amnet_edu.evaluate.tre import Segment, evaluate_tre, format_tre_table, tre_starts

    assert tre_starts(tiny().boxes, 1) == [0] and tre_starts(tiny().boxes, 2) == [0, 3]
    assert tre_starts(tiny(first_absent=2).boxes, 2) == [2, 4]
    assert tre_starts(tiny().boxes, 10) == [0, 1, 2, 3, 4, 5]     # no start twice
    seq = tiny()
    seg = Segment(seq, 3)
    assert seg.name == "tiny@3" and len(seg) == 3 and np.array_equal(seg.boxes, seq.boxes[3:])
    assert int(seg.frame(0)[0, 0, 0]) == 3
    with pytest.raises(IndexError):
        seg.frame(3)
    # right on frames 0-2, far off on 3-5: OPE scores frames 1-5 (2 of 5 right), the second
    # start scores frames 4-5 (none right); IoU 1 passes 20 of the 21 thresholds
    script = {i: (seq.boxes[i] if i < 3 else [50.0, 50.0, 3.0, 4.0]) for i in range(6)}
    tr = scripted_tracker(script)
    r = evaluate_tre([tr], [seq], k=2, results_dir=tmp_path, benchmark="b")["Scripted"]
    assert tr.inits == [0, 3]
    assert r["sequences"]["tiny"]["starts"] == {0: pytest.approx(2 / 5 * 20 / 21), 3: 0.0}
    assert r["ope_auc"] == pytest.approx(2 / 5 * 20 / 21)
    assert r["success_auc"] == pytest.approx(4 / 21)
    assert (tmp_path / "b_tre" / "Scripted" / "tiny@3.txt").is_file()
    assert "| Scripted | 0.190 | 0.381 |" in format_tre_table({"Scripted": r})
    one = evaluate_tre([scripted_tracker(script)], [seq], k=1, results_dir=tmp_path / "one")["Scripted"]
    assert one["success_auc"] == one["ope_auc"] == evaluate_ope([scripted_tracker(script)], [seq],
                                                                 results_dir=tmp_path / "ope")["Scripted"]["success_auc"]


def test_paired_difference_by_hand():
    from amnet_edu.evaluate.tre import format_tre_table, paired_difference

    def res(*aucs):
        return {"success_auc": float(np.mean(aucs)), "ope_auc": 0.0,
                "sequences": {f"s{i}": {"success_auc": a} for i, a in enumerate(aucs)}}

    a, b = res(0.5, 0.4, 0.9), res(0.3, 0.4, 0.6)
    d = paired_difference(a, b)                      # differences 0.2, 0.0, 0.3
    assert d["n"] == 3 and d["mean"] == pytest.approx(0.5 / 3)
    assert d["se"] == pytest.approx(np.std([0.2, 0.0, 0.3], ddof=1) / np.sqrt(3))
    assert "- A - B: +0.167 (standard error 0.088, paired over 3 sequences)" in format_tre_table({"B": b, "A": a})
    with pytest.raises(ValueError):
        paired_difference(a, {"sequences": {"other": {"success_auc": 1.0}}})


def test_tre_in_worker_processes_gives_the_same_boxes(tmp_path, square_sequence, otb_writer):
    from amnet_edu.data import load_sequence
    from amnet_edu.evaluate.tre import evaluate_tre

    seq = load_sequence(otb_writer(tmp_path / "data" / "square", square_sequence(n=12)))
    r1 = evaluate_tre(["kcf"], [seq], k=2, results_dir=tmp_path / "r1")
    r2 = evaluate_tre(["kcf"], [seq], k=2, results_dir=tmp_path / "r2", workers=2)
    for name in ("square@0", "square@6"):
        np.testing.assert_array_equal(read_result(tmp_path / "r1", "shared_tre", "KCF", name)["boxes"],
                                      read_result(tmp_path / "r2", "shared_tre", "KCF", name)["boxes"])
    assert r1["KCF"]["sequences"] == r2["KCF"]["sequences"]


def test_cached_runs_of_another_configuration_are_not_reused(tmp_path, square_sequence):
    import json

    from amnet_edu.evaluate.registry import ConfiguredTracker
    from amnet_edu.tracking import TrackerConfig

    seq = square_sequence(n=4)
    folder = tmp_path / "b" / "ANet-x"
    a = ConfiguredTracker("anet", TrackerConfig(window_influence=0.25), "ANet-x")
    evaluate_ope([a], [seq], results_dir=tmp_path, benchmark="b")
    record = json.loads((folder / "tracker.json").read_text())
    assert record["model"] == "anet" and record["config"]["window_influence"] == 0.25
    assert evaluate_ope([a], [seq], results_dir=tmp_path, benchmark="b")["ANet-x"]["notes"] == []
    # the same label with another loop: its cached runs are not scored as this one's
    b = ConfiguredTracker("anet", TrackerConfig(window_influence=0.4), "ANet-x")
    with pytest.raises(ValueError, match="config.window_influence"):
        evaluate_ope([b], [seq], results_dir=tmp_path, benchmark="b")
    evaluate_ope([b], [seq], results_dir=tmp_path, benchmark="b", overwrite=True)
    assert json.loads((folder / "tracker.json").read_text())["config"]["window_influence"] == 0.4
    # runs stored before these records existed: used, and said so
    (folder / "tracker.json").unlink()
    notes = evaluate_ope([b], [seq], results_dir=tmp_path, benchmark="b")["ANet-x"]["notes"]
    assert any("older than configuration records" in n for n in notes)


def test_tracker_description_follows_weights_and_config():
    import torch

    from amnet_edu.tracking import TrackerConfig

    t = make_tracker("anet")
    d = t.describe()
    assert d == make_tracker("anet").describe()
    assert d["config"] == make_tracker("anet", TrackerConfig()).describe()["config"]
    assert make_tracker("anet", TrackerConfig(online="none")).describe()["config"]["online"] == "none"
    with torch.no_grad():
        t.model.anet.fuse.bias.add_(1.0)
    assert t.describe()["weights_sha256"] != d["weights_sha256"]
    assert make_tracker("csrt").describe() == {"tracker": "opencv", "kind": "CSRT"}
