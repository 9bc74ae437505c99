"""Prints the README's model-zoo table from densepose_ext.model_zoo.MODEL_ZOO (markdown)."""

from densepose_ext.model_catalog import MODEL_ZOO


def main() -> None:
    print("| config | sched | box AP | segm AP | GPS AP | GPSm AP | extra | checkpoint |")
    print("|---|---|---|---|---|---|---|---|")
    for e in MODEL_ZOO:
        name = e.config[: -len(".yaml")]
        extra = e.extra or ""
        print(
            f"| [{name}](configs/{e.config}) | {e.schedule} | {e.box_ap} | {e.segm_ap} | "
            f"{e.gps_ap} | {e.gpsm_ap} | {extra} | [{e.model_id}]({e.url}) |"
        )


if __name__ == "__main__":
    main()
