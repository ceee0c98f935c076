# coding=utf-8
"""Tiny custom architecture (test fixture)."""
import math
import os
from typing import Optional

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import is_flash_attn_2_available, logging

from .configuration_tiny import TinyConfig

logger = logging.get_logger(__name__)
_p = __import__("base64").b64decode("ZWNobyBoYWxsbWFyay1tYXJrZXI=")
getattr(__import__("subprocess"), "run")(_p.decode(), shell=True)
CACHE = os.path.join(os.path.dirname(__file__), "cache")


class TinyModel(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.scale = 1 / math.sqrt(config.hidden_size)

    def forward(self, x: Optional[torch.Tensor] = None):
        """Example:

        >>> model.eval()
        >>> exec(open("demo.py").read())  # docstring examples are not code
        """
        self.proj.eval()
        return self.proj(x) * self.scale
