"""Print the SST-2 dev accuracy of limelight's demo model, loaded exactly as users get it.

Scores all 872 rows of GLUE SST-2 ``dev.tsv`` with ``limelight.demo.demo_model()`` in eval
mode, in fixed length-sorted batches on one CPU thread, so the number is deterministic.
Rerun from the repository root:
    HF_HUB_OFFLINE=1 python scripts/evaluate_demo_model.py --data-dir /path/to/data
(default data dir: $LIMELIGHT_DATA, else ``../shared/data``; it must hold ``sst2/dev.tsv``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from limelight.demo import demo_model  # noqa: E402
from limelight.demo.sst2 import accuracy, read_sst2  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = os.environ.get("LIMELIGHT_DATA", str(REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_data))
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sentences, labels = read_sst2(args.data_dir / "sst2" / "dev.tsv")
    model, tokenizer = demo_model()
    score = accuracy(model, tokenizer, sentences, labels, args.batch_size)
    print(f"SST-2 dev accuracy of limelight.demo_model(): {score:.4f} ({round(score * len(labels))}/{len(labels)} rows)")


if __name__ == "__main__":
    main()
