"""One mixed-precision rule for every forward pass (training, evaluation, serving, features).

On CUDA, autocast to bfloat16 where the device supports it (no overflow on long sequences), else
float16; on the CPU, full precision. Training, evaluation and serving share it, so a model is
served at the precision it was scored at.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype on ``device``; None where nothing is autocast (the CPU)."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device) -> Any:
    """The autocast context for forward passes on ``device``."""
    dtype = autocast_dtype(device)
    return nullcontext() if dtype is None else torch.autocast("cuda", dtype=dtype)
