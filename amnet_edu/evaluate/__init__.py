"""Evaluation: the OPE protocol of ``shared/notes/baselines.md``, VOT-style runs, OpenCV
baselines, got10k-layout result files, plots and tables.

Importing this package is cheap: OpenCV and PyTorch are imported only when a tracker is built.

Modules (one idea each): ``metrics`` (success / precision curves), ``opencv_trackers``
(MIL/KCF/CSRT behind the tracker protocol), ``registry`` (trackers by name), ``results``
(files on disk), ``ope`` (one-pass evaluation), ``vot`` (supervised runs, unofficial EAO),
``plots``, ``report`` (tables and the ``amnet-edu evaluate`` command).
"""
from .metrics import (PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, attribute_auc,
                      frame_center_errors, frame_overlaps, mean_over_sequences, precision_at,
                      precision_curve, sequence_metrics, success_auc, success_curve)
from .ope import evaluate_ope, run_ope, tracker_label
from .opencv_trackers import OPENCV_KINDS, OpenCVTracker
from .plots import attribute_plot, precision_plot, save_plots, success_plot
from .registry import TRACKER_NAMES, display_name, make_tracker
from .report import format_table, format_vot_table
from .results import has_result, read_result, result_paths, write_result
from .vot import EAO_LABEL, eao, evaluate_vot, expected_overlap_curve, run_vot

__all__ = [
    "SUCCESS_THRESHOLDS", "PRECISION_THRESHOLDS", "success_curve", "success_auc",
    "precision_curve", "precision_at", "frame_overlaps", "frame_center_errors",
    "sequence_metrics", "attribute_auc", "mean_over_sequences",
    "run_ope", "evaluate_ope", "tracker_label", "OpenCVTracker", "OPENCV_KINDS",
    "make_tracker", "display_name", "TRACKER_NAMES",
    "write_result", "read_result", "has_result", "result_paths",
    "run_vot", "evaluate_vot", "expected_overlap_curve", "eao", "EAO_LABEL",
    "success_plot", "precision_plot", "attribute_plot", "save_plots",
    "format_table", "format_vot_table",
]
