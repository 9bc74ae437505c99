"""Training and evaluation loop for DensePose models."""
from .trainer import Trainer, create_ddp_model, extract_embedder
