"""Tracking data: benchmark loaders, a synthetic sequence generator, downloads.

Importing this package is cheap: the generator (scikit-image photos, OpenCV) and the
downloader are imported on first use.
"""
from __future__ import annotations

from .sequences import (Sequence, find_sequences, load_clip, load_mot, load_otb, load_sequence,
                        load_video, load_vot, shared_data_root)
from .collection import load_collection, read_index, train_data_root
# Imported eagerly (stdlib only): the module and the function share the name ``download``, and
# binding the function here keeps ``amnet_edu.data.download`` the function.
from .download import download, fetch_otb_sequence

__all__ = [
    "Sequence", "load_otb", "load_vot", "load_mot", "load_video", "load_clip", "load_sequence",
    "find_sequences", "shared_data_root", "load_collection", "read_index", "train_data_root", "SyntheticSequence", "SyntheticOptions",
    "make_sequence", "make_dataset", "save_otb", "download", "fetch_otb_sequence",
]

_LAZY = {
    "SyntheticSequence": "synthetic", "SyntheticOptions": "synthetic",
    "make_sequence": "synthetic", "make_dataset": "synthetic", "save_otb": "synthetic",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        mod = importlib.import_module(f".{_LAZY[name]}", __name__)
        globals()[name] = value = getattr(mod, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
