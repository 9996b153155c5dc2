"""Tracking with AMNet: crops (Sections 3, 4.1) and the frame-by-frame ``Tracker``."""
from .crops import crop_square, crop_to_frame, frame_to_crop, template_side
from .tracker import Tracker, TrackerConfig

__all__ = ["Tracker", "TrackerConfig", "crop_square", "crop_to_frame", "frame_to_crop", "template_side"]
