"""Synthetic tracking sequences with exact ground truth, built from scikit-image's photographs.

A background is a large crop of one photograph seen through a moving camera (pan, zoom, shake:
``cv2.warpAffine`` of the crop); the target is a patch of another photograph (elliptical or
rectangular mask) that moves smoothly, scales, rotates a little and deforms (anisotropic
scale). Optional effects: an occluder (a patch of a third photograph crossing the target), a
distractor (a second copy of the target texture moving elsewhere), global illumination ramps
(gain/offset) and sensor noise. Everything is drawn from ``np.random.default_rng(seed)``, so a
seed gives the same sequence every time.

Ground truth: ``boxes`` ``[N, 4]`` 0-based ``(x, y, w, h)``, the exact axis-aligned bounding box
of the transformed target shape (continuous pixel coordinates, as in ``amnet_edu.boxes``), and
per-frame flags ``occlusion`` (occluder covers >= 30 % of the target), ``camera_motion``,
``illum_change``, ``scale_change``, ``deformation``, ``distractor`` (a look-alike in view).
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from ..frames import to_rgb
from .sequences import Sequence

__all__ = ["PHOTOS", "SyntheticOptions", "SyntheticSequence", "make_sequence", "make_dataset",
           "save_otb", "ATTRIBUTES"]

#: scikit-image sample photographs used (all shipped with scikit-image, no download).
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "coins", "camera",
          "immunohistochemistry", "hubble_deep_field")
ATTRIBUTES = ("occlusion", "camera_motion", "illum_change", "scale_change", "deformation",
              "distractor")
_EFFECTS = ("scale_change", "rotation", "deformation", "camera_motion", "occlusion",
            "distractor", "illumination")


@functools.lru_cache(maxsize=None)
def _photo(name: str) -> np.ndarray:
    """A scikit-image sample photograph as read-only RGB uint8 (loaded once)."""
    import skimage.data

    img = to_rgb(getattr(skimage.data, name)())
    img.setflags(write=False)
    return img


@dataclass
class SyntheticOptions:
    """Switches and magnitudes of :func:`make_sequence`'s effects.

    An effect switch set to ``None`` is decided by the seed (on with probability 1/2).
    Sizes are fractions of ``min(H, W)``; speeds are pixels (or log-scale) per frame.
    """

    photos: tuple = PHOTOS            # pool of photographs for background / target / occluder
    background: str | None = None     # force the background photograph
    target_shape: str = "random"      # 'ellipse' | 'rect' | 'random'
    target_size: tuple = (0.15, 0.3)  # sqrt(w*h) of the initial target, fraction of min(H, W)
    target_aspect: tuple = (0.5, 2.0)  # w/h of the initial target
    target_color: tuple | None = None  # a plain RGB target instead of a photo patch (tests)
    max_speed: float = 4.0            # target speed limit, px/frame
    acceleration: float = 0.4         # std of the per-frame velocity change, px/frame^2
    scale_change: bool | None = True
    scale_range: tuple = (0.6, 1.6)   # relative to the initial size
    scale_speed: float = 0.015        # max |d log(scale)| per frame
    rotation: bool | None = True
    max_rotation: float = 20.0        # degrees
    deformation: bool | None = True
    deformation_amount: float = 0.2   # amplitude of log(aspect) oscillation
    camera_motion: bool | None = True
    pan_speed: float = 3.0            # px/frame in the frame
    zoom_amount: float = 0.15         # amplitude of log(zoom) oscillation
    shake: float = 0.7                # std of the per-frame camera jitter, px
    occlusion: bool | None = False
    occluder_size: tuple = (0.8, 1.5)  # relative to the target's initial width/height
    distractor: bool | None = False
    illumination: bool | None = False
    illum_gain: tuple = (0.5, 1.5)
    illum_offset: float = 40.0        # max |offset| in grey levels
    noise: float = 2.0                # std of Gaussian sensor noise, grey levels


@dataclass
class SyntheticSequence(Sequence):
    """A :class:`Sequence` whose frames are held in memory: ``images`` ``[N, H, W, 3]`` uint8."""

    images: np.ndarray | None = None

    def frame(self, i: int) -> np.ndarray:
        return self.images[self._check_index(int(i))].copy()

    def frames(self):
        for i in range(len(self)):
            yield self.frame(i)


# ----------------------------------------------------------------------------- geometry

def _linear(scale: float, deform: float, theta: float) -> np.ndarray:
    """2x2 map patch -> frame: rotation(theta) @ diag(scale*e^deform, scale*e^-deform)."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]]) @ np.diag([scale * math.exp(deform), scale * math.exp(-deform)])


def _half_extent(L: np.ndarray, w: float, h: float, ellipse: bool) -> tuple[float, float]:
    """Half width/height of the axis-aligned box of a w x h rectangle/ellipse mapped by L."""
    a, b = w / 2, h / 2
    if ellipse:  # support function of an ellipse along x and y
        return math.hypot(L[0, 0] * a, L[0, 1] * b), math.hypot(L[1, 0] * a, L[1, 1] * b)
    return abs(L[0, 0]) * a + abs(L[0, 1]) * b, abs(L[1, 0]) * a + abs(L[1, 1]) * b


def _warp_matrix(L: np.ndarray, center: np.ndarray, w: int, h: int, origin=(0, 0)) -> np.ndarray:
    """cv2 2x3 matrix sending patch pixel indices to frame pixel indices minus ``origin``.

    Continuous coordinates (pixel k covers [k, k+1)) relate to cv2's indices by +0.5, hence
    the half-pixel terms: frame = L (patch - c0) + center, c0 = (w/2, h/2).
    """
    t = L @ (0.5 - np.array([w / 2, h / 2])) + center - 0.5 - np.asarray(origin, float)
    return np.hstack([L, t[:, None]])


def _shape_mask(w: int, h: int, ellipse: bool) -> np.ndarray:
    """float32 h x w coverage mask; the ellipse gets a 1-px soft edge (0.5 on the boundary)."""
    if not ellipse:
        return np.ones((h, w), np.float32)  # edges come out soft from warpAffine's border
    a, b = w / 2, h / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    r = np.sqrt(((xx - a) / a) ** 2 + ((yy - b) / b) ** 2)
    return np.clip((1 - r) * min(a, b) + 0.5, 0, 1).astype(np.float32)


def _random_walk(rng, n: int, start: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 max_speed: float, accel: float) -> np.ndarray:
    """Smooth bounded 2-D walk: random initial velocity, Gaussian acceleration, reflection."""
    p = np.empty((n, 2))
    pos = np.array(start, float)
    ang = rng.uniform(0, 2 * math.pi)
    vel = rng.uniform(0.2, 1.0) * max_speed * np.array([math.cos(ang), math.sin(ang)])
    for t in range(n):
        p[t] = pos
        vel = vel + rng.normal(0, accel, 2)
        sp = np.hypot(*vel)
        if sp > max_speed:
            vel *= max_speed / sp
        pos = pos + vel
        for k in range(2):  # bounce off the allowed region
            if pos[k] < lo[k] or pos[k] > hi[k]:
                vel[k] = -vel[k]
                pos[k] = np.clip(pos[k], lo[k], hi[k])
    return p


def _bounded_1d(rng, n: int, lo: float, hi: float, max_rate: float) -> np.ndarray:
    """Smooth 1-D walk starting at 0 with rate limit ``max_rate``, reflected into [lo, hi]."""
    x = np.zeros(n)
    v = rng.uniform(-max_rate, max_rate)
    for t in range(1, n):
        v = float(np.clip(v + rng.normal(0, max_rate / 4), -max_rate, max_rate))
        x[t] = x[t - 1] + v
        if not lo <= x[t] <= hi:
            v = -v
            x[t] = min(max(x[t], lo), hi)
    return x


def _crop_patch(rng, photo: np.ndarray, w: int, h: int) -> np.ndarray:
    """A random crop of ``photo`` with aspect w/h, resized to h x w."""
    import cv2

    ph, pw = photo.shape[:2]
    k = rng.uniform(1.0, 2.5)
    k = min(k, pw / w, ph / h)
    cw, ch = max(1, int(round(w * k))), max(1, int(round(h * k)))
    x0 = int(rng.integers(0, pw - cw + 1))
    y0 = int(rng.integers(0, ph - ch + 1))
    interp = cv2.INTER_AREA if k >= 1 else cv2.INTER_LINEAR
    return cv2.resize(photo[y0:y0 + ch, x0:x0 + cw], (w, h), interpolation=interp)


def _paste(canvas: np.ndarray, patch: np.ndarray, mask: np.ndarray, L: np.ndarray,
           center: np.ndarray, ext: tuple[float, float]):
    """Alpha-blend ``patch`` (mapped by L about ``center``) into float32 ``canvas`` in place.

    Only the region of interest around the shape is warped. Returns ``(roi, warped mask)``
    with ``roi = (x0, y0, x1, y1)``, or ``None`` when the shape is outside the frame.
    """
    import cv2

    H, W = canvas.shape[:2]
    x0 = max(int(math.floor(center[0] - ext[0])) - 1, 0)
    y0 = max(int(math.floor(center[1] - ext[1])) - 1, 0)
    x1 = min(int(math.ceil(center[0] + ext[0])) + 1, W)
    y1 = min(int(math.ceil(center[1] + ext[1])) + 1, H)
    if x1 <= x0 or y1 <= y0:
        return None
    h, w = mask.shape
    M = _warp_matrix(L, center, w, h, (x0, y0))
    size = (x1 - x0, y1 - y0)
    p = cv2.warpAffine(patch, M, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    m = cv2.warpAffine(mask, M, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
    region = canvas[y0:y1, x0:x1]
    region += m[..., None] * (p.astype(np.float32) - region)
    return (x0, y0, x1, y1), m


def _illumination(rng, n: int, opts: SyntheticOptions) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame gain and offset: holds and linear ramps to new random levels."""
    gain, off = np.ones(n), np.zeros(n)
    g, o = 1.0, 0.0
    t = int(rng.integers(3, max(4, n // 3)))
    lo, hi = math.log(opts.illum_gain[0]), math.log(opts.illum_gain[1])
    while t < n - 2:
        dur = int(rng.integers(8, 25))
        # a clearly visible change: at least 0.2 in log gain, pushed back inside the range
        lg = math.log(g) + rng.choice([-1, 1]) * rng.uniform(0.2, 0.5)
        if not lo <= lg <= hi:
            lg = math.log(g) - (lg - math.log(g))
        g_new = math.exp(min(max(lg, lo), hi))
        o_new = rng.uniform(-opts.illum_offset, opts.illum_offset)
        ramp = np.linspace(0, 1, dur + 1)[1:]
        seg = slice(t, min(t + dur, n))
        k = seg.stop - seg.start
        gain[seg] = g + (g_new - g) * ramp[:k]
        off[seg] = o + (o_new - o) * ramp[:k]
        hold = int(rng.integers(5, 20))
        gain[seg.stop:] = g_new
        off[seg.stop:] = o_new
        g, o = g_new, o_new
        t += dur + hold
    return gain, off


def _window_change(x: np.ndarray, window: int = 5) -> np.ndarray:
    """|x[t] - x[t - window]| (t - window clipped at 0)."""
    idx = np.maximum(np.arange(len(x)) - window, 0)
    return np.abs(x - x[idx])


# ----------------------------------------------------------------------------- generator

def make_sequence(seed: int, num_frames: int = 60, size: tuple[int, int] = (240, 320),
                  **options) -> SyntheticSequence:
    """Generate a synthetic sequence; ``options`` are :class:`SyntheticOptions` fields.

    Returns a :class:`SyntheticSequence` with ``images`` ``[num_frames, H, W, 3]`` uint8,
    ``boxes`` ``[num_frames, 4]`` (0-based xywh, exact), bool ``attributes`` (see module doc)
    and ``info`` holding the seed, the resolved options and the photographs used.
    """
    import cv2

    opts = SyntheticOptions(**options)
    rng = np.random.default_rng(seed)
    N = int(num_frames)
    H, W = int(size[0]), int(size[1])
    if N < 1 or H < 16 or W < 16:
        raise ValueError(f"need num_frames >= 1 and a frame of at least 16x16, got {N}, {size}")
    on = {k: (bool(rng.random() < 0.5) if getattr(opts, k) is None else bool(getattr(opts, k)))
          for k in _EFFECTS}
    photos = list(opts.photos)
    order = [photos[i] for i in rng.permutation(len(photos))]
    bg_name = opts.background or order[0]
    rest = [p for p in order if p != bg_name] or order
    tgt_name, occ_name = rest[0], rest[1 % len(rest)]

    # --- background and camera: frame = z * (bg - c) + frame centre + shake
    bg_photo = _photo(bg_name)
    ph, pw = bg_photo.shape[:2]
    k = max(1.6 * H / ph, 1.6 * W / pw) * rng.uniform(1.0, 1.4)
    bg = cv2.resize(bg_photo, (int(round(pw * k)), int(round(ph * k))),
                    interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    bh, bw = bg.shape[:2]
    if on["camera_motion"]:
        zf, zp = rng.uniform(1 / 80, 1 / 25), rng.uniform(0, 2 * math.pi)
        tt = np.arange(N)
        zoom = np.exp(opts.zoom_amount * (np.sin(2 * math.pi * zf * tt + zp) - math.sin(zp)))
        zmin = float(zoom.min())
        lo = np.array([W, H]) / (2 * zmin)
        hi = np.array([bw, bh]) - lo
        cam = _random_walk(rng, N, rng.uniform(lo, np.maximum(lo, hi)), lo, np.maximum(lo, hi),
                           opts.pan_speed, opts.pan_speed / 8)
        shake = rng.normal(0, opts.shake, (N, 2))
    else:
        zoom = np.ones(N)
        cam = np.tile([bw / 2, bh / 2], (N, 1))
        shake = np.zeros((N, 2))
    fc = np.array([W / 2, H / 2])
    corners = np.array([[0, 0], [W, 0], [0, H], [W, H]], float)
    cam_motion = np.zeros(N, bool)
    for t in range(1, N):  # how far frame t-1's content moved in frame t
        world = (corners - fc - shake[t - 1]) / zoom[t - 1] + cam[t - 1]
        moved = zoom[t] * (world - cam[t]) + fc + shake[t]
        cam_motion[t] = np.abs(moved - corners).max() > 0.5
    if N > 1:
        cam_motion[0] = cam_motion[1]

    # --- target: patch, mask, motion, scale, rotation, deformation
    m0 = min(H, W)
    side = rng.uniform(*opts.target_size) * m0
    aspect = math.exp(rng.uniform(math.log(opts.target_aspect[0]), math.log(opts.target_aspect[1])))
    tw, th = max(4, int(round(side * math.sqrt(aspect)))), max(4, int(round(side / math.sqrt(aspect))))
    ellipse = {"ellipse": True, "rect": False}.get(opts.target_shape, bool(rng.random() < 0.5))
    if opts.target_color is not None:
        patch = np.empty((th, tw, 3), np.uint8)
        patch[:] = np.asarray(opts.target_color, np.uint8)
    else:
        patch = _crop_patch(rng, _photo(tgt_name), tw, th)
    mask = _shape_mask(tw, th, ellipse)

    log_s = (_bounded_1d(rng, N, math.log(opts.scale_range[0]), math.log(opts.scale_range[1]),
                         opts.scale_speed) if on["scale_change"] else np.zeros(N))
    theta = (_bounded_1d(rng, N, -math.radians(opts.max_rotation), math.radians(opts.max_rotation),
                         math.radians(1.5)) if on["rotation"] else np.zeros(N))
    if on["deformation"]:
        df, dp = rng.uniform(1 / 60, 1 / 20), rng.uniform(0, 2 * math.pi)
        deform = opts.deformation_amount * (np.sin(2 * math.pi * df * np.arange(N) + dp) - math.sin(dp))
    else:
        deform = np.zeros(N)
    Ls = [_linear(math.exp(log_s[t]), deform[t], theta[t]) for t in range(N)]
    ext = np.array([_half_extent(L, tw, th, ellipse) for L in Ls])
    margin = np.array([0.1 * W, 0.1 * H]) + 0.5 * ext[0]
    lo, hi = margin, np.maximum(np.array([W, H]) - margin, margin)
    start = rng.uniform(lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo))
    pos = _random_walk(rng, N, start, lo, hi, opts.max_speed, opts.acceleration)
    boxes = np.hstack([pos - ext, 2 * ext])

    # --- distractor: the same texture and shape on an independent path
    if on["distractor"]:
        dstart = np.array([W, H]) - start  # the opposite side of the frame
        dpos = _random_walk(rng, N, np.clip(dstart, lo, hi), lo, hi, opts.max_speed, opts.acceleration)
        dtheta = theta + rng.uniform(-0.3, 0.3)
        dLs = [_linear(math.exp(log_s[t]), -deform[t], dtheta[t]) for t in range(N)]
        dext = np.array([_half_extent(L, tw, th, ellipse) for L in dLs])
        dbox = np.hstack([dpos - dext, 2 * dext])
        ix = np.clip(np.minimum(dbox[:, 0] + dbox[:, 2], W) - np.maximum(dbox[:, 0], 0), 0, None)
        iy = np.clip(np.minimum(dbox[:, 1] + dbox[:, 3], H) - np.maximum(dbox[:, 1], 0), 0, None)
        distractor_flag = ix * iy >= 0.5 * dbox[:, 2] * dbox[:, 3]
    else:
        distractor_flag = np.zeros(N, bool)

    # --- occluder: a patch of a third photograph crossing the target's path
    if on["occlusion"]:
        ow = max(4, int(round(tw * rng.uniform(*opts.occluder_size))))
        oh = max(4, int(round(th * rng.uniform(*opts.occluder_size))))
        o_ell = bool(rng.random() < 0.5)
        opatch = _crop_patch(rng, _photo(occ_name), ow, oh)
        omask = _shape_mask(ow, oh, o_ell)
        tc = int(rng.integers(int(0.25 * N), max(int(0.25 * N) + 1, int(0.75 * N))))
        ang = rng.uniform(0, 2 * math.pi)
        ov = rng.uniform(3.0, 6.0) * np.array([math.cos(ang), math.sin(ang)])
        opos = pos[min(tc, N - 1)] + ov * (np.arange(N) - tc)[:, None]
        oL = np.eye(2)
        oext = _half_extent(oL, ow, oh, o_ell)

    gain, offset = _illumination(rng, N, opts) if on["illumination"] else (np.ones(N), np.zeros(N))

    # --- render
    images = np.empty((N, H, W, 3), np.uint8)
    occ_frac = np.zeros(N)
    if opts.noise > 0:  # one noise field, shifted per frame: drawing N full fields is the bottleneck
        pad = 32
        noise_bank = rng.standard_normal((H + pad, W + pad, 3), dtype=np.float32) * np.float32(opts.noise)
        noise_at = rng.integers(0, pad + 1, (N, 2))
    for t in range(N):
        Mb = np.array([[zoom[t], 0, fc[0] + shake[t, 0] - zoom[t] * cam[t, 0] - 0.5 + 0.5 * zoom[t]],
                       [0, zoom[t], fc[1] + shake[t, 1] - zoom[t] * cam[t, 1] - 0.5 + 0.5 * zoom[t]]])
        frame = cv2.warpAffine(bg, Mb, (W, H), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
        if on["distractor"]:
            _paste(frame, patch, mask, dLs[t], dpos[t], dext[t])
        tgt = _paste(frame, patch, mask, Ls[t], pos[t], ext[t])
        if on["occlusion"]:
            occ = _paste(frame, opatch, omask, oL, opos[t], oext)
            if occ is not None and tgt is not None:
                (x0, y0, x1, y1), tm = tgt
                M = _warp_matrix(oL, opos[t], ow, oh, (x0, y0))
                om = cv2.warpAffine(omask, M, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                occ_frac[t] = float((tm * om).sum() / max(tm.sum(), 1e-6))
        if on["illumination"]:
            frame *= gain[t]
            frame += offset[t]
        if opts.noise > 0:
            dy, dx = noise_at[t]
            frame += noise_bank[dy:dy + H, dx:dx + W]
        np.clip(frame, 0, 255, out=frame)
        images[t] = frame  # float -> uint8 truncation after clipping: cheap and deterministic

    attributes = {
        "occlusion": occ_frac >= 0.3,
        "camera_motion": cam_motion,
        "illum_change": (_window_change(gain, 1) > 1e-4) | (_window_change(offset, 1) > 1e-2),
        "scale_change": _window_change(log_s) > 0.03,
        "deformation": np.abs(deform) > 0.05,
        "distractor": distractor_flag,
    }
    info = {"seed": seed, "options": asdict(opts), "effects": on,
            "photos": {"background": bg_name, "target": None if opts.target_color else tgt_name,
                       "occluder": occ_name if on["occlusion"] else None},
            "target_shape": "ellipse" if ellipse else "rect", "occluded_fraction": occ_frac}
    return SyntheticSequence(name=f"synthetic_{seed}", frame_files=None, boxes=boxes,
                             attributes=attributes, layout="synthetic", info=info, images=images)


def make_dataset(seeds: Iterable[int], num_frames: int = 60, size: tuple[int, int] = (240, 320),
                 **options) -> list[SyntheticSequence]:
    """``[make_sequence(s, num_frames, size, **options) for s in seeds]``."""
    return [make_sequence(int(s), num_frames, size, **options) for s in seeds]


def _fmt(v: float) -> str:
    return "NaN" if np.isnan(v) else (f"{v:.6f}".rstrip("0").rstrip("."))


def save_otb(sequence: Sequence, folder, quality: int = 90) -> Path:
    """Write ``sequence`` in OTB layout: ``img/0001.jpg ...``, ``groundtruth_rect.txt``
    (1-based ``x,y,w,h``, comma separated, 6 decimals) and ``attributes.json`` (0/1 lists).

    :func:`amnet_edu.data.load_otb` reads it back. Returns the folder.
    """
    import cv2

    folder = Path(folder)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    for i in range(len(sequence)):
        bgr = cv2.cvtColor(sequence.frame(i), cv2.COLOR_RGB2BGR)
        path = folder / "img" / f"{i + 1:04d}.jpg"
        if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)]):
            raise OSError(f"could not write {path}")
    b = np.asarray(sequence.boxes, float).copy()
    b[:, :2] += 1.0  # 0-based -> OTB's 1-based
    lines = [",".join(_fmt(v) for v in row) for row in b]
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    attrs = {k: [int(x) for x in np.asarray(v, bool)] for k, v in sequence.attributes.items()}
    (folder / "attributes.json").write_text(json.dumps(attrs, separators=(",", ":")) + "\n")
    return folder
