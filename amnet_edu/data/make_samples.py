"""Write the repository's small generated sample sequences (OTB layout) to ``data_samples/``.

    python -m amnet_edu.data.make_samples [--out data_samples]

Deterministic: the same seeds and options give the same boxes (a test checks the committed
``groundtruth_rect.txt`` files against a fresh generation).
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .synthetic import SyntheticSequence, make_sequence, save_otb

__all__ = ["SAMPLES", "generate", "write_samples", "main"]

NUM_FRAMES = 70
SIZE = (240, 320)
JPEG_QUALITY = 85

#: name -> (seed, options for make_sequence)
SAMPLES: dict[str, tuple[int, dict]] = {
    "synthetic_pan": (101, dict(camera_motion=True, pan_speed=4.0, zoom_amount=0.2,
                                scale_change=True, deformation=False, occlusion=False,
                                distractor=False, illumination=False)),
    "synthetic_occlusion": (202, dict(camera_motion=False, occlusion=True, distractor=True,
                                      deformation=False, illumination=False)),
    "synthetic_illum": (303, dict(camera_motion=False, deformation=True, deformation_amount=0.3,
                                  illumination=True, occlusion=False, distractor=False)),
}

README = """# Generated sample sequences

These {n} short sequences are **generated**, not recorded: they were made by
`amnet_edu.data.synthetic.make_sequence` with

    python -m amnet_edu.data.make_samples --out data_samples

| folder | seed | effects |
|---|---|---|
{rows}

Each is {frames} frames of {w}x{h} pixels in OTB layout: `img/0001.jpg ...` (JPEG quality
{q}), `groundtruth_rect.txt` (**1-based** `x,y,w,h`, comma separated, OTB's convention; the
loader `amnet_edu.data.load_otb` converts to 0-based) and `attributes.json` (per-frame 0/1
flags: occlusion, camera_motion, illum_change, scale_change, deformation, distractor). The boxes
are exact (the bounding box of the transformed target shape). A test regenerates the sequences
and checks the boxes against these files.

The pictures are crops of scikit-image's sample photographs (`skimage.data`); their
docstrings say: `astronaut` (NASA) "No known copyright restrictions, released into the public
domain"; `coffee` "No copyright restrictions. CC0 by the photographer (Rachel Michetti)";
`chelsea` "No copyright restrictions. CC0 by the photographer (Stefan van der Walt)";
`rocket` (SpaceX) "released in the public domain"; `coins` (Brooklyn Museum) and
`immunohistochemistry` "No known copyright restrictions"; `camera` "No copyright restrictions.
CC0 by the photographer (Lav Varshney)"; `hubble_deep_field` (NASA) "may be freely used in the
public domain". Photographs used here: {photos}.
"""


def generate(name: str) -> SyntheticSequence:
    """The sample sequence ``name`` (in memory)."""
    seed, options = SAMPLES[name]
    seq = make_sequence(seed, NUM_FRAMES, SIZE, **options)
    seq.name = name
    return seq


def write_samples(out) -> list[Path]:
    """Generate every sample into ``out/<name>/`` (replacing old ones) and write the README."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, photos = [], set()
    for name, (seed, _) in SAMPLES.items():
        seq = generate(name)
        if (out / name).exists():
            shutil.rmtree(out / name)
        save_otb(seq, out / name, quality=JPEG_QUALITY)
        on = [k for k, v in seq.info["effects"].items() if v]
        rows.append(f"| `{name}` | {seed} | {', '.join(on)} |")
        photos.update(p for p in seq.info["photos"].values() if p)
    (out / "README.md").write_text(README.format(
        n=len(SAMPLES), rows="\n".join(rows), frames=NUM_FRAMES, w=SIZE[1], h=SIZE[0],
        q=JPEG_QUALITY, photos=", ".join(f"`{p}`" for p in sorted(photos))))
    return [out / name for name in SAMPLES]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="data_samples", help="output folder (default: data_samples)")
    args = ap.parse_args(argv)
    for p in write_samples(args.out):
        print(p)


if __name__ == "__main__":
    main()
