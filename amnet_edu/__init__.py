"""amnet_edu: AMNet (WACV 2019), appearance + motion for model-free tracking, in PyTorch.

Start here: ``Tracker.from_pretrained("amnet")`` (tracking), ``build_model`` (the network),
``amnet_edu.data`` (sequences), ``amnet_edu.evaluate`` (OPE/VOT metrics), ``amnet_edu.train``.
The book (``book/`` in the repository) explains every module; each chapter imports this package.
Heavy submodules (PyTorch) load on first use, so ``import amnet_edu`` stays cheap.
"""
from .config import CPU, PAPER, ModelConfig, get_config

__version__ = "0.1.0"

_LAZY = {
    "Tracker": "tracking", "TrackerConfig": "tracking", "build_model": "model",
    "AMNet": "model", "ANetOnly": "model", "load_checkpoint": "checkpoint", "save_checkpoint": "checkpoint",
}

__all__ = ["CPU", "PAPER", "ModelConfig", "get_config", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
