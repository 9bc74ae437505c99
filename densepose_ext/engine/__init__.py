"""Training and evaluation loop for DensePose models."""

from .distributed import close_process_group
from .trainer import Trainer, create_ddp_model, extract_embedder
