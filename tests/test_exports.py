"""The top-level package exposes every engine method class, so ``limelight.X`` works for each."""

import limelight
from limelight import engine


def test_every_engine_method_class_is_exported_at_the_top_level():
    methods = {name for name in engine.__all__ if isinstance(getattr(engine, name), type) and hasattr(getattr(engine, name), "attribute")}
    missing = sorted(methods - set(limelight.__all__))
    assert not missing, f"engine methods not exported from limelight: {missing}"
    assert all(getattr(limelight, name) is getattr(engine, name) for name in methods)
