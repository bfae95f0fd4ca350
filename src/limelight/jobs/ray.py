"""The Ray engine of a dataset job: ``map_batches`` on an actor pool, rows identical to the local engine.

``explain_dataset(..., engine="ray")`` sends the rows still to do (after resume and sharding,
decided by the driver) through ``ray.data.Dataset.map_batches`` with an
``ActorPoolStrategy(size=workers)``. The explainer is pickled once and each actor unpickles it
once, in its constructor, so the model is loaded once per actor (on its GPU when ``num_gpus``
> 0), then each actor explains whole chunks with :func:`~limelight.jobs.run.explain_items`,
the same function the local engine uses. The actors return every explanation as its exact JSON
(``to_json``, rebuilt by the front end), and the driver writes the chunks as they arrive into the job's
Parquet folder (:mod:`limelight.jobs.parquet`), whose part files are the index a resume reads:
a failed or killed Ray job run again redoes only the missing rows. Ray is imported only here.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

from limelight.errors import MissingDependencyError
from limelight.jobs.frontends import FrontEnd
from limelight.jobs.protocol import Explainer
from limelight.jobs.run import Outcome, Stream, explain_items
from limelight.jobs.sources import Item


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or the library's error naming the extra."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise MissingDependencyError("engine='ray' needs Ray Data: pip install 'limelight[ray]'") from error
    return ray


class ExplainActor:
    """One actor of the pool: holds the explainer (unpickled once) and explains a batch of rows (items travel pickled)."""

    def __init__(self, explainer: Explainer, explain_kwargs: dict[str, Any], front: FrontEnd) -> None:
        self.explainer, self.explain_kwargs, self.front = explainer, explain_kwargs, front

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        items = [pickle.loads(bytes(data)) for data in batch["item"]]
        outcomes = explain_items(self.explainer, items, self.explain_kwargs, self.front)
        return {
            "position": [o.item.position for o in outcomes],
            "explanation": ["" if o.explanation is None else o.explanation.to_json() for o in outcomes],
            "error": [o.error or "" for o in outcomes],
        }


def ray_engine(
    explainer: Explainer, explain_kwargs: dict[str, Any], front: FrontEnd, *, workers: int, num_gpus: float | None, address: str | None
) -> Stream:
    """An engine running chunks on ``workers`` Ray actors (``num_gpus`` each) of the cluster at ``address``."""
    ray = import_ray()

    def stream(chunks: Sequence[Sequence[Item]]) -> Iterator[Sequence[Outcome]]:
        if not chunks:
            return
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False  # the job draws its own progress
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        gpus = num_gpus if num_gpus is not None else (1.0 if _cuda() else 0.0)
        by_position = {item.position: item for chunk in chunks for item in chunk}
        rows = [{"position": i.position, "item": pickle.dumps(i)} for chunk in chunks for i in chunk]
        dataset = ray.data.from_items(rows, override_num_blocks=len(chunks)).map_batches(
            ExplainActor,
            fn_constructor_kwargs={"explainer": explainer, "explain_kwargs": explain_kwargs, "front": front},
            batch_size=len(chunks[0]),
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
            num_gpus=gpus,
            batch_format="numpy",
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            yield [
                Outcome(by_position[int(p)], front.decode(str(e)) if e else None, str(error) or None)
                for p, e, error in zip(batch["position"], batch["explanation"], batch["error"])
            ]

    return stream


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())
