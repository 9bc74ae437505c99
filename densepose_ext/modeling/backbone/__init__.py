"""Backbones registered in detectron2's BACKBONE_REGISTRY: HRNet and HRNet + HRFPN."""

from .hrfpn import HRFPN, build_hrfpn_backbone
from .hrnet import PoseHRNet, build_pose_hrnet_backbone
