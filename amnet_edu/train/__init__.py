"""Training AMNet (Section 4.2): triplets with Gaussian targets, the paper's recipe, DDP."""
from .triplets import (FrameSource, JitterConfig, TripletDataset, gaussian_map, recorded_state, rollout_frames,
                       sample_triplet)
from .trainer import TrainConfig, loss_fn, lr_at, train
from .sources import HELD_OUT_SEQUENCES, TRAIN_SEQUENCES, attach_states, real_sources, synthetic_sources

__all__ = ["FrameSource", "JitterConfig", "TripletDataset", "gaussian_map", "recorded_state", "rollout_frames",
           "sample_triplet", "TrainConfig", "loss_fn", "lr_at", "train", "HELD_OUT_SEQUENCES", "TRAIN_SEQUENCES",
           "attach_states", "real_sources", "synthetic_sources"]
