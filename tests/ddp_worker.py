"""Run by tests/test_train.py, alone or under torchrun: 3 tiny training steps in float64, weights
saved by rank 0."""
import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import square_source as _square_source, tiny_train_config as _tiny_cfg  # noqa: E402

from amnet_edu.train import train  # noqa: E402


def main(out: str) -> None:
    torch.set_num_threads(1)
    srcs = [_square_source(seed=1), _square_source(seed=2)]
    result = train(_tiny_cfg(out, 3, dtype="float64"), srcs, progress=False, log=lambda *a: None)
    if not dist.is_initialized() or dist.get_rank() == 0:
        torch.save(result["model"].state_dict(), Path(out) / "weights.pt.tmp")
        Path(out, "weights.pt.tmp").rename(Path(out) / "weights.pt")
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
