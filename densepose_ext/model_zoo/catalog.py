"""The official DensePose model zoo: config name -> checkpoint URL and published accuracy.

Numbers are the ones published with the original checkpoints (COCO minival for human models,
DensePose Chimps for evolution, LVIS/chimps CSE val sets for animals). "extra" is APex GPS
(GPS AP with MIN_IOU_THRESHOLD 0.2) or mesh-alignment GErr / GPS.
"""
from typing import NamedTuple, Optional


class ModelZooEntry(NamedTuple):
    config: str  # path under configs/
    schedule: str
    model_id: int
    box_ap: float
    segm_ap: float
    gps_ap: float
    gpsm_ap: float
    extra: Optional[str]
    url: str


MODEL_ZOO = (
    ModelZooEntry("densepose_rcnn_R_50_FPN_s1x_legacy.yaml", "s1x", 164832157, 58.1, 58.2, 52.1, 54.9, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_s1x_legacy/164832157/model_final_d366fa.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_s1x_legacy.yaml", "s1x", 164832182, 59.5, 59.3, 53.2, 56.0, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_s1x_legacy/164832182/model_final_10af0e.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_s1x.yaml", "s1x", 165712039, 61.2, 67.2, 63.7, 65.3, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_s1x/165712039/model_final_162be9.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_s1x.yaml", "s1x", 165712084, 62.3, 67.8, 64.5, 66.2, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_s1x/165712084/model_final_c6ab63.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_DL_s1x.yaml", "s1x", 165712097, 61.1, 68.3, 65.6, 66.7, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_DL_s1x/165712097/model_final_0ed407.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_DL_s1x.yaml", "s1x", 165712116, 62.3, 68.7, 66.3, 67.6, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_DL_s1x/165712116/model_final_844d15.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_WC1_s1x.yaml", "s1x", 173862049, 60.5, 67.0, 64.2, 65.4, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_WC1_s1x/173862049/model_final_289019.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_WC2_s1x.yaml", "s1x", 173861455, 60.7, 66.9, 64.2, 65.7, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_WC2_s1x/173861455/model_final_3abe14.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_DL_WC1_s1x.yaml", "s1x", 173067973, 61.1, 68.1, 65.8, 67.0, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_DL_WC1_s1x/173067973/model_final_b1e525.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_DL_WC2_s1x.yaml", "s1x", 173859335, 60.8, 67.9, 65.6, 66.7, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_DL_WC2_s1x/173859335/model_final_60fed4.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_WC1_s1x.yaml", "s1x", 171402969, 62.5, 67.6, 64.9, 66.3, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_WC1_s1x/171402969/model_final_9e47f0.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_WC2_s1x.yaml", "s1x", 173860702, 62.3, 67.6, 64.8, 66.4, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_WC2_s1x/173860702/model_final_5ea023.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_DL_WC1_s1x.yaml", "s1x", 173858525, 62.0, 68.4, 66.2, 67.2, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_DL_WC1_s1x/173858525/model_final_f359f3.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_DL_WC2_s1x.yaml", "s1x", 173294801, 61.7, 68.3, 65.9, 67.2, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_DL_WC2_s1x/173294801/model_final_6e1ed1.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_WC1M_s1x.yaml", "s1x", 217144516, 60.6, 66.7, 64.0, 65.4, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_WC1M_s1x/217144516/model_final_48a9d9.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_WC2M_s1x.yaml", "s1x", 216245640, 60.7, 66.9, 64.2, 65.5, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_WC2M_s1x/216245640/model_final_d79ada.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_DL_WC1M_s1x.yaml", "s1x", 216245703, 60.7, 68.0, 65.2, 66.7, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_DL_WC1M_s1x/216245703/model_final_61971e.pkl"),
    ModelZooEntry("densepose_rcnn_R_50_FPN_DL_WC2M_s1x.yaml", "s1x", 216245758, 60.8, 68.1, 65.0, 66.4, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_DL_WC2M_s1x/216245758/model_final_7bfb43.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_WC1M_s1x.yaml", "s1x", 216453687, 62.0, 67.3, 64.8, 66.0, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_WC1M_s1x/216453687/model_final_0a7287.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_WC2M_s1x.yaml", "s1x", 216245682, 62.5, 67.4, 64.5, 66.0, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_WC2M_s1x/216245682/model_final_e354d9.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_DL_WC1M_s1x.yaml", "s1x", 216245771, 62.0, 68.1, 66.4, 67.1, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_DL_WC1M_s1x/216245771/model_final_0ebeb3.pkl"),
    ModelZooEntry("densepose_rcnn_R_101_FPN_DL_WC2M_s1x.yaml", "s1x", 216245790, 61.9, 68.2, 66.1, 67.1, None,
                  "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_101_FPN_DL_WC2M_s1x/216245790/model_final_de6e7a.pkl"),
    ModelZooEntry("evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA.yaml", "3x", 217578784, 61.3, 59.1, 20.0, 30.2, 'APex GPS 36.2',
                  "https://dl.fbaipublicfiles.com/densepose/evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA/217578784/model_final_9fe1cc.pkl"),
    ModelZooEntry("evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_uniform.yaml", "3x", 256453729, 60.9, 58.5, 21.5, 31.0, 'APex GPS 37.2',
                  "https://dl.fbaipublicfiles.com/densepose/evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_uniform/256453729/model_final_241ff5.pkl"),
    ModelZooEntry("evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_uv.yaml", "3x", 256452095, 61.4, 58.9, 22.2, 32.1, 'APex GPS 38.3',
                  "https://dl.fbaipublicfiles.com/densepose/evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_uv/256452095/model_final_d689e2.pkl"),
    ModelZooEntry("evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_finesegm.yaml", "3x", 256452819, 60.9, 58.5, 20.7, 30.7, 'APex GPS 36.7',
                  "https://dl.fbaipublicfiles.com/densepose/evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_finesegm/256452819/model_final_cb4ac6.pkl"),
    ModelZooEntry("evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_coarsesegm.yaml", "3x", 256455697, 61.3, 59.2, 21.5, 31.6, 'APex GPS 37.9',
                  "https://dl.fbaipublicfiles.com/densepose/evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_coarsesegm/256455697/model_final_a6a4bf.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_s1x.yaml", "s1x", 251155172, 61.1, 67.1, 64.4, 65.7, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_s1x/251155172/model_final_c4ea5f.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_101_FPN_s1x.yaml", "s1x", 251155500, 62.3, 67.2, 64.7, 65.8, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_101_FPN_s1x/251155500/model_final_5c995f.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_DL_s1x.yaml", "s1x", 251156349, 60.8, 67.8, 65.5, 66.4, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_DL_s1x/251156349/model_final_e96218.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_101_FPN_DL_s1x.yaml", "s1x", 251156606, 61.5, 68.0, 65.6, 66.6, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_101_FPN_DL_s1x/251156606/model_final_b236ce.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_soft_s1x.yaml", "s1x", 250533982, 61.3, 66.9, 64.3, 65.4, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_soft_s1x/250533982/model_final_2c4512.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_101_FPN_soft_s1x.yaml", "s1x", 250712522, 62.1, 67.3, 64.5, 66.0, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_101_FPN_soft_s1x/250712522/model_final_4637da.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_DL_soft_s1x.yaml", "s1x", 250713703, 60.8, 68.0, 66.1, 66.7, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_DL_soft_s1x/250713703/model_final_9199f5.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_101_FPN_DL_soft_s1x.yaml", "s1x", 250713061, 61.5, 68.2, 66.2, 67.1, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_101_FPN_DL_soft_s1x/250713061/model_final_1d3314.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_soft_chimps_finetune_4k.yaml", "4K", 253146869, 62.0, 59.0, 32.2, 39.6, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_soft_chimps_finetune_4k/253146869/model_final_52f649.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_soft_animals_finetune_4k.yaml", "4K", 253145793, 44.9, 55.5, 21.3, 28.8, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_soft_animals_finetune_4k/253145793/model_final_8f8ba2.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_soft_animals_CA_finetune_4k.yaml", "4K", 253498611, 53.4, 59.5, 25.4, 33.4, None,
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_soft_animals_CA_finetune_4k/253498611/model_final_6d69b7.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_soft_animals_I0_finetune_16k.yaml", "16k", 270727112, 54.2, 67.0, 29.0, 38.6, 'GErr 13.2, GPS 85.4',
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_soft_animals_I0_finetune_16k/270727112/model_final_421d28.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_soft_animals_I0_finetune_m2m_16k.yaml", "16k", 270982215, 54.1, 67.3, 28.6, 38.4, 'GErr 12.5, GPS 87.6',
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_soft_animals_I0_finetune_m2m_16k/270982215/model_final_6fe5f4.pkl"),
    ModelZooEntry("cse/densepose_rcnn_R_50_FPN_soft_animals_I0_finetune_i2m_16k.yaml", "16k", 270727461, 54.0, 66.6, 28.9, 38.3, 'GErr 11.0, GPS 88.9',
                  "https://dl.fbaipublicfiles.com/densepose/cse/densepose_rcnn_R_50_FPN_soft_animals_I0_finetune_i2m_16k/270727461/model_final_8c9d99.pkl"),
)
