"""Benchmark loaders: the real shared sequences (where present) and hand-made fixtures."""
from __future__ import annotations

import re

import numpy as np
import pytest

from amnet_edu.data import (Sequence, find_sequences, load_mot, load_otb, load_sequence, load_video,
                            load_vot)

EXPECTED_FRAMES = {
    "vot2017_bag": 196, "vot2017_bolt1": 350, "vot2017_car1": 742, "vot2017_zebrafish1": 400,
    "vot2014_car": 252, "vottir2016_horse": 348, "otb_Human3_first199": 199,
    "otb_Dudek_first20": 20, "mot17mini_MOT17-05": 6, "mot17mini_MOT17-09": 4,
}


def _first_line_box(path, one_based: bool) -> np.ndarray:
    """The file's first box, 0-based, computed independently of the loader."""
    vals = [float(v) for v in re.split(r"[,\s]+", path.read_text().splitlines()[0].strip())]
    if len(vals) == 8:
        xs, ys = vals[0::2], vals[1::2]
        vals = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    return np.array(vals[:4]) - ([1, 1, 0, 0] if one_based else 0)


# ----------------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def real(shared_data):
    return {s.name: s for s in find_sequences(shared_data)}


def test_all_shared_sequences_load_with_expected_lengths(real):
    for name, n in EXPECTED_FRAMES.items():
        assert name in real, f"{name} not found"
        seq = real[name]
        assert len(seq) == n, name
        assert len(seq.frame_files) == n, name
        assert seq.boxes.shape == (n, 4) and seq.boxes.dtype == np.float64


def test_shared_layouts_and_first_boxes(real, shared_data):
    layouts = {"vot2017_bolt1": "vot2016", "vot2014_car": "vot2014", "vottir2016_horse": "vot2014",
               "otb_Dudek_first20": "otb", "mot17mini_MOT17-05": "mot"}
    for name, layout in layouts.items():
        assert real[name].layout == layout
    for name, seq in real.items():
        if seq.layout == "mot":  # checked in test_shared_mot
            continue
        gt = shared_data / name / ("groundtruth_rect.txt" if seq.layout == "otb" else "groundtruth.txt")
        # OTB files are 1-based; VOT files are read as written (got10k/pysot, the judged protocol)
        np.testing.assert_allclose(seq.boxes[0], _first_line_box(gt, seq.layout == "otb"), atol=1e-9, err_msg=name)
        np.testing.assert_allclose(seq.init_box, seq.boxes[0])


def test_shared_attributes(real):
    for name in ("vot2017_bolt1", "vot2017_car1", "vot2017_zebrafish1", "vot2014_car", "vottir2016_horse"):
        attrs = real[name].attributes
        assert {"camera_motion", "motion_change", "size_change"} <= set(attrs), name
        for a in attrs.values():
            assert a.dtype == bool and a.shape == (len(real[name]),)
    assert "occlusion" in real["vot2014_car"].attributes
    assert real["vot2017_bolt1"].info.get("name") == "bolt1"


def test_shared_frames_rgb(real):
    horse = real["vottir2016_horse"]
    assert horse.frame_files[0].suffix == ".png"
    f = horse.frame(0)
    assert f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3
    assert (f[..., 0] == f[..., 1]).all()  # grey replicated
    d = real["otb_Dudek_first20"].frame(-1)
    assert d.shape == (480, 720, 3) and d.dtype == np.uint8
    with pytest.raises(IndexError):
        real["otb_Dudek_first20"].frame(20)


def test_shared_mot(real, shared_data):
    seq = real["mot17mini_MOT17-05"]
    assert len(seq) == 6 and len(seq.all_boxes) > 5
    rows = [list(map(float, l.split(","))) for l in
            (shared_data / "mot17mini_MOT17-05" / "gt" / "gt.txt").read_text().split()]
    r = rows[0]
    np.testing.assert_allclose(seq.all_boxes[int(r[1])][int(r[0]) - 1], [r[2] - 1, r[3] - 1, r[4], r[5]])
    assert seq.info["seqlength"] == "837"  # seqinfo.ini says the original length; the files win


# ----------------------------------------------------------------------------- fixtures

def _frames(folder, n, shape=(24, 32), ext=".jpg", pattern="{:04d}"):
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.full(shape + (3,), 10 * i % 255, np.uint8)
        cv2.imwrite(str(folder / (pattern.format(i + 1) + ext)), img)


@pytest.mark.parametrize("sep", [",", "\t", " ", ", "])
def test_otb_separators(tmp_path, sep):
    _frames(tmp_path / "img", 3)
    rows = [[11, 21, 5, 6], [12.5, 22, 5, 6], [13, 23, 7, 8]]
    (tmp_path / "groundtruth_rect.txt").write_text("\n".join(sep.join(map(str, r)) for r in rows) + "\n\n")
    seq = load_otb(tmp_path)
    np.testing.assert_allclose(seq.boxes, np.array(rows) - [1, 1, 0, 0])
    assert seq.layout == "otb" and len(seq) == 3 and seq.frame(2).shape == (24, 32, 3)


def test_otb_more_frames_than_boxes_truncates_with_warning(tmp_path):
    _frames(tmp_path / "img", 4)
    (tmp_path / "groundtruth_rect.txt").write_text("1,1,2,2\n1,1,2,2\n1,1,2,2\n")
    with pytest.warns(UserWarning, match="4 frames but 3 boxes"):
        seq = load_otb(tmp_path)
    assert len(seq.frame_files) == 3


def test_otb_fewer_frames_than_boxes_is_an_error(tmp_path):
    _frames(tmp_path / "img", 2)
    (tmp_path / "groundtruth_rect.txt").write_text("1,1,2,2\n1,1,2,2\n1,1,2,2\n")
    with pytest.raises(ValueError, match="2 frames but 3 boxes"):
        load_otb(tmp_path)


def test_malformed_line_names_file_and_line(tmp_path):
    _frames(tmp_path / "img", 3)
    (tmp_path / "groundtruth_rect.txt").write_text("1,1,2,2\n1,1,2,2\n1,1,2\n")
    with pytest.raises(ValueError, match=r"groundtruth_rect.txt line 3: expected 4 numbers, got 3"):
        load_otb(tmp_path)
    (tmp_path / "groundtruth_rect.txt").write_text("1,1,2,2\n1,x,2,2\n1,1,2,2\n")
    with pytest.raises(ValueError, match=r"groundtruth_rect.txt line 2"):
        load_otb(tmp_path)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        load_otb(tmp_path / "nope")
    (tmp_path / "img").mkdir()
    with pytest.raises(FileNotFoundError, match="groundtruth_rect.txt"):
        load_otb(tmp_path)
    with pytest.raises(FileNotFoundError, match="groundtruth.txt"):
        load_vot(tmp_path)


def test_vot_polygons_nan_and_short_attribute_files(tmp_path):
    _frames(tmp_path / "color", 4, pattern="{:08d}")
    (tmp_path / "groundtruth.txt").write_text(
        "10,20,30,20,30,40,10,40\n"      # axis-aligned square as a polygon
        "5,15,15,5,25,15,15,25\n"        # a diamond: bounding box 5..25 x 5..25
        "NaN,NaN,NaN,NaN\n"
        "3,4,5,6\n")
    (tmp_path / "occlusion.tag").write_text("0\n1\n")          # shorter: padded with 0
    (tmp_path / "camera_motion.tag").write_text("")             # empty: all 0
    (tmp_path / "sequence").write_text("name=fixture\nfps=30\n")
    seq = load_vot(tmp_path)
    assert seq.layout == "vot2016" and seq.info["name"] == "fixture"
    np.testing.assert_allclose(seq.boxes[0], [10, 20, 20, 20])  # VOT: read as written
    np.testing.assert_allclose(seq.boxes[1], [5, 5, 20, 20])
    assert np.isnan(seq.boxes[2]).all()
    np.testing.assert_allclose(seq.boxes[3], [3, 4, 5, 6])
    assert seq.attributes["occlusion"].tolist() == [False, True, False, False]
    assert not seq.attributes["camera_motion"].any()


def test_vot_bad_attribute_token_and_count_mismatch(tmp_path):
    _frames(tmp_path, 2, pattern="{:08d}")
    (tmp_path / "groundtruth.txt").write_text("1,1,2,2\n1,1,2,2\n")
    (tmp_path / "occlusion.label").write_text("0\n2\n")
    with pytest.raises(ValueError, match=r"occlusion.label line 2"):
        load_vot(tmp_path)
    (tmp_path / "occlusion.label").write_text("0\n1\n")
    assert load_sequence(tmp_path).layout == "vot2014"
    (tmp_path / "groundtruth.txt").write_text("1,1,2,2\n1,1,2,2\n1,1,2,2\n")
    with pytest.raises(ValueError, match="2 frames but 3 boxes"):
        load_vot(tmp_path)


def test_mot_parsing(tmp_path):
    _frames(tmp_path / "img1", 3, pattern="{:06d}")
    (tmp_path / "gt").mkdir()
    (tmp_path / "gt" / "gt.txt").write_text(
        "1,1,11,21,5,6,1,1,1.0\n2,1,12,22,5,6,1,1,0.8\n3,1,13,23,5,6,1,1,0.5\n"
        "1,2,101,1,9,9,1,1,1.0\n3,2,103,1,9,9,1,1,1.0\n"
        "1,7,50,50,9,9,0,8,1.0\n2,7,50,50,9,9,0,8,1.0\n3,7,50,50,9,9,0,8,1.0\n")  # ignored rows
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nname=X\nimDir=img1\nseqLength=900\n")
    seq = load_mot(tmp_path)
    assert len(seq) == 3 and seq.layout == "mot" and sorted(seq.all_boxes) == [1, 2, 7]
    np.testing.assert_allclose(seq.boxes, [[10, 20, 5, 6], [11, 21, 5, 6], [12, 22, 5, 6]])
    assert np.isnan(seq.all_boxes[2][1]).all()
    np.testing.assert_allclose(seq.all_boxes[2][2], [102, 0, 9, 9])
    (tmp_path / "gt" / "gt.txt").write_text("4,1,11,21,5,6,1,1,1.0\n")
    with pytest.raises(ValueError, match="gt.txt line 1: frame 4"):
        load_mot(tmp_path)


def test_video_roundtrip(tmp_path):
    import cv2

    path = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    assert w.isOpened()
    for i in range(8):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:, :, 2] = 30 * i  # red channel (BGR) encodes the frame number
        w.write(img)
    w.release()
    seq = load_video(path, (5, 6, 10, 12))
    assert seq.layout == "video" and len(seq) == 8 and seq.name == "clip"
    np.testing.assert_allclose(seq.init_box, [5, 6, 10, 12])
    assert np.isnan(seq.boxes[1:]).all()
    for i in (5, 2, 3, 7):  # seeking backwards and forwards
        f = seq.frame(i)
        assert f.shape == (48, 64, 3) and abs(int(f[..., 0].mean()) - 30 * i) <= 4
    frames = list(seq.frames())
    assert len(frames) == 8 and abs(int(frames[4][..., 0].mean()) - 120) <= 4
    with pytest.raises(IndexError):
        seq.frame(8)
    with pytest.raises(ValueError, match="first_box"):
        load_sequence(path)
    assert len(load_sequence(path, first_box=(1, 1, 4, 4))) == 8


def test_find_sequences_sorted(tmp_path):
    for name in ("b_seq", "a_seq"):
        _frames(tmp_path / "sub" / name / "img", 2)
        (tmp_path / "sub" / name / "groundtruth_rect.txt").write_text("1 1 2 2\n1 1 2 2\n")
    (tmp_path / "notes").mkdir()
    seqs = find_sequences(tmp_path)
    assert [s.name for s in seqs] == ["a_seq", "b_seq"]
    assert all(isinstance(s, Sequence) for s in seqs)
