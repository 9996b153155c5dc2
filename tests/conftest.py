"""Shared fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real benchmark sequences (``$AMNET_EDU_DATA`` or ``../shared/data/tracking``);
    skips the test where they are absent, as on a user's machine."""
    from amnet_edu.data import shared_data_root

    root = shared_data_root()
    if root is None:
        repo = Path(__file__).resolve().parents[1]
        pytest.skip(f"shared tracking data not found at {repo.parent / 'shared/data/tracking'}; "
                    "set AMNET_EDU_DATA")
    return root
