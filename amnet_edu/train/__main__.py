"""``python -m amnet_edu.train`` = ``amnet-edu train``; also the entry point under ``torchrun``."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
