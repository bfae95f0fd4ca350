"""Print the Matthews correlation and accuracy of limelight's CoLA demo on CoLA dev, loaded as users get it.

Scores the CoLA public 1.1 in-domain dev (527 rows, GLUE's CoLA dev) and out-of-domain dev (516
rows) with ``limelight.demo_model("cola")`` in eval mode on one CPU thread, through the text front
end's runner (length-sorted batches), so the numbers are deterministic. Rerun from the repository root:
    HF_HUB_OFFLINE=1 python scripts/evaluate_cola_model.py --data-dir /path/to/data
(default data dir: $LIMELIGHT_DATA, else ``../shared/data``; it must hold ``cola/cola_public/raw``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from limelight.demo import demo_model  # noqa: E402
from limelight.demo.cola import cola_path, read_cola, score_cola  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
SPLITS = {"in_domain_dev": "in-domain dev", "out_of_domain_dev": "out-of-domain dev"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = os.environ.get("LIMELIGHT_DATA", str(REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_data))
    args = parser.parse_args()
    torch.set_num_threads(1)
    model, tokenizer = demo_model("cola")
    print("| CoLA split | rows | Matthews correlation | accuracy |")
    print("|---|---|---|---|")
    for split, name in SPLITS.items():
        sentences, labels = read_cola(cola_path(args.data_dir, split))
        score = score_cola(model, tokenizer, sentences, labels)
        print(f"| {name} | {len(labels)} | {score['mcc']:.3f} | {score['accuracy']:.3f} |")


if __name__ == "__main__":
    main()
