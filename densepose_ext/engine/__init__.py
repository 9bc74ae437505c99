"""Training and evaluation loop for DensePose models, and the fast inference `Predictor`."""

from .distributed import close_process_group
from .predictor import (
    BackendError,
    BatchPredictor,
    CheckpointError,
    InstancesPredictor,
    Predictor,
    PredictorError,
)
from .trainer import Trainer, create_ddp_model, extract_embedder
