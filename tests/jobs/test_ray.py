"""The Ray engine: a local cluster started in the test, rows identical to the local engine, resume through the part index.

Slow (a Ray cluster starts: about 20-60 s and 2-3 GB of memory); skipped when Ray Data is not installed.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from limelight.jobs import explain_dataset, read_results
from tests.jobs.texts import TEXTS

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="needs Ray Data: pip install 'limelight[ray]'")
pytest.importorskip("ray.data")
pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster: a short temp dir (Unix socket paths are limited to 107 bytes), explicit CPUs and object store."""
    directory = tempfile.mkdtemp(prefix="llray", dir="/tmp")
    ray.init(num_cpus=4, object_store_memory=200 * 1024**2, include_dashboard=False, _temp_dir=directory, log_to_driver=False)
    yield
    ray.shutdown()


def _comparable(path):
    frame = read_results(path)
    return frame.drop(columns=["explanation"]).map(lambda v: tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v), frame


def test_ray_gives_the_rows_of_the_local_engine_and_resumes(cluster, explainer, tmp_path):
    texts = [*TEXTS, "", *TEXTS[::-1]]
    explain_dataset(explainer, texts, tmp_path / "local.parquet", chunk_size=3)
    summary = explain_dataset(explainer, texts, tmp_path / "ray.parquet", chunk_size=3, engine="ray", workers=2)
    assert (summary.written, summary.failed, summary.engine) == (13, 1, "ray")
    (local, local_full), (on_ray, ray_full) = _comparable(tmp_path / "local.parquet"), _comparable(tmp_path / "ray.parquet")
    assert local.equals(on_ray)  # the same chunks: the same floats, to the last bit
    assert list(local_full["explanation"].fillna("")) == list(ray_full["explanation"].fillna(""))
    parts = sorted(p for p in os.listdir(tmp_path / "ray.parquet") if p.startswith("part-"))
    for name in parts[1::2]:  # a job that lost half its parts runs again: only those rows are redone
        os.unlink(tmp_path / "ray.parquet" / name)
    again = explain_dataset(explainer, texts, tmp_path / "ray.parquet", chunk_size=3, engine="ray", workers=1)
    assert again.already_done + again.written == 13 and again.written < 13
    assert _comparable(tmp_path / "ray.parquet")[0].equals(local)


def test_a_ray_dataset_as_the_source(cluster, explainer, tmp_path):
    source = ray.data.from_items([{"id": f"r{i}", "review": text} for i, text in enumerate(TEXTS)])
    explain_dataset(explainer, source, tmp_path / "from_ray.parquet", column="review", engine="ray", workers=1, chunk_size=3)
    frame = read_results(tmp_path / "from_ray.parquet")
    assert list(frame["id"]) == [f"r{i}" for i in range(6)] and list(frame["text"]) == TEXTS


def test_image_and_generation_jobs_on_ray_give_the_rows_of_the_local_engine(cluster, tmp_path):
    from tests.jobs.frontends import PROMPTS, generation_explainer, image_explainer, write_images

    paths = [*write_images(tmp_path / "pictures", 4), str(tmp_path / "missing.png")]
    jobs = [(image_explainer(), paths, {}), (generation_explainer(), [*PROMPTS[:3], ""], {"max_new_tokens": 2})]
    for number, (explainer, source, options) in enumerate(jobs):
        explain_dataset(explainer, source, tmp_path / f"local{number}.parquet", chunk_size=2, **options)
        summary = explain_dataset(explainer, source, tmp_path / f"ray{number}.parquet", chunk_size=2, engine="ray", workers=2, **options)
        assert summary.failed == 1 and summary.engine == "ray"
        local, on_ray = read_results(tmp_path / f"local{number}.parquet"), read_results(tmp_path / f"ray{number}.parquet")
        assert local.map(repr).equals(on_ray.map(repr))  # every cell, arrays and thumbnails included, to the last bit
