"""``explain_dataset``: explain every row of a dataset into Parquet (or JSON Lines), resumably, locally or on Ray.

One call for every front end (texts, images, prompts: :mod:`limelight.jobs.frontends`), every
source :func:`~limelight.jobs.sources.read_source` reads (a list, a mapping, CSV/TSV/JSONL/Parquet
files, a pandas DataFrame, a Hugging Face ``datasets.Dataset``, a folder of images) and every engine: ``"local"`` explains chunk after chunk in this process, ``"ray"`` on a Ray Data actor pool
(:mod:`limelight.jobs.ray`), with the same rows. The output's suffix picks its format: a folder
``*.parquet`` of atomic part files (:mod:`limelight.jobs.parquet`, the default) or a ``*.jsonl``
file (:mod:`limelight.jobs.jsonl`, integer ids only).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from limelight.engine.validation import check_choice, check_count
from limelight.errors import InvalidInputError
from limelight.jobs.frontends import front_end
from limelight.jobs.jsonl import explain_jsonl_items
from limelight.jobs.parquet import ParquetOutput
from limelight.jobs.progress import JobSummary
from limelight.jobs.protocol import Explainer
from limelight.jobs.records import job_settings
from limelight.jobs.run import Stream, drive, local_engine
from limelight.jobs.sources import read_source

ENGINES = ("local", "ray")
FORMATS = ("parquet", "jsonl")


def explain_dataset(
    explainer: Explainer,
    source: Any,
    output: str | os.PathLike[str],
    *,
    column: str | None = None,
    id_column: str | None = None,
    label_column: str | None = None,
    target_column: str | None = None,
    text_pair_column: str | None = None,
    format: str | None = None,
    chunk_size: int = 32,
    resume: bool = True,
    shard: tuple[int, int] = (0, 1),
    engine: str = "local",
    workers: int = 1,
    num_gpus: float | None = None,
    address: str | None = None,
    show_progress: bool | None = None,
    log_every: float | None = None,
    **explain_kwargs: Any,
) -> JobSummary:
    """Explain every row of ``source`` into ``output``; returns what was done (rows, failures with reasons, time).

    ``explainer`` is a text explainer, an :class:`~limelight.vision.ImageExplainer` (inputs: image
    paths or arrays; ``source`` may be a folder of images) or a
    :class:`~limelight.generation.GenerationExplainer` (inputs: prompts). ``column`` names the input
    column of a file or table, ``id_column`` its ids (default: an ``id`` column, else row
    numbers), ``label_column`` the true labels (names, or indices into the model's labels), which
    fill the ``label`` and ``correct`` columns; ``target_column`` each row's own target (a label
    name or index; for generation, the continuation to explain); ``text_pair_column`` the second
    text of each row (NLI, QA: text explainers only). ``format`` is
    ``"parquet"`` (a folder) or ``"jsonl"``; by default ``output`` ending in ``.jsonl`` writes
    JSON Lines, anything else a Parquet folder. A row that cannot be explained
    is written with the reason in ``error``. An interrupted job run again with ``resume=True``
    does only what is missing and gives exactly the rows of a clean run; a folder or file made
    with other inputs or settings is refused. ``shard=(k, n)`` takes the rows whose id (integer
    ids; else row position) is ``k`` modulo ``n``. ``chunk_size`` rows are explained per call
    and written together (the most an abrupt kill can cost). ``engine="ray"`` runs on ``workers``
    actors (``num_gpus`` each; default 1 when CUDA is available, else 0) of the Ray cluster at
    ``address`` (default: a local one). Other keyword arguments go to ``explainer.explain``
    (``target=``, ``contrast=``: one label for every row).
    """
    check_choice("engine", engine, ENGINES)
    chosen = (
        check_choice("format", format, FORMATS)
        if format is not None
        else ("jsonl" if str(output).lower().endswith(".jsonl") else "parquet")
    )
    check_count("chunk_size", chunk_size)
    check_count("workers", workers)
    if engine == "local" and (workers != 1 or num_gpus is not None or address is not None):
        raise InvalidInputError("workers, num_gpus and address apply to engine='ray'; drop them or pass engine='ray'")
    for name in ("target", "contrast"):
        value = explain_kwargs.get(name)
        if value is not None and not isinstance(value, (str, int)):
            raise InvalidInputError(
                f"{name} must be one label (a name or an index) for every row of a dataset job, got {type(value).__name__}; "
                "for one target per row, name its column with target_column="
            )
    if target_column is not None and explain_kwargs.get("target") is not None:
        raise InvalidInputError("target= is one target for every row and target_column= one per row; give one of them")
    front = front_end(explainer)
    if text_pair_column is not None and front.name != "text":
        raise InvalidInputError(f"text_pair_column= gives text explainers a second text; a {front.name} explainer takes none")
    if chosen == "jsonl" and front.name != "text":
        raise InvalidInputError(f"JSON Lines output holds text explanations; write a {front.name} job to a folder ending in .parquet")
    path = Path(output)
    if path.exists() and not resume:
        raise InvalidInputError(f"{path} exists; pass resume=True to continue it, or choose another path")
    items = read_source(
        source,
        column,
        id_column=id_column,
        label_column=label_column,
        target_column=target_column,
        pair_column=text_pair_column,
        labels=front.labels(explainer),
        check=front.check,
    )
    if chosen == "jsonl":
        if engine != "local":
            raise InvalidInputError("engine='ray' writes Parquet; give an output folder ending in .parquet")
        summary: JobSummary = explain_jsonl_items(explainer, items, path, chunk_size, shard, show_progress, log_every, explain_kwargs)
        return summary
    settings = {**job_settings(explainer, explain_kwargs), **front.settings(explainer)}
    if target_column is not None:
        settings["target_column"] = target_column
    parquet = ParquetOutput(path, settings, all(isinstance(item.id, int) for item in items), front)
    run: Stream = local_engine(explainer, explain_kwargs, front)
    if engine == "ray":
        from limelight.jobs.ray import ray_engine

        run = ray_engine(explainer, explain_kwargs, front, workers=workers, num_gpus=num_gpus, address=address)
    return drive(
        items, parquet, path, run, chunk_size=chunk_size, shard=shard, show_progress=show_progress, log_every=log_every, engine_name=engine
    )
