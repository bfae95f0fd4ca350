"""Optional dependencies: a missing pandas is one clear error naming the extra, wherever it is needed."""

import sys

import pytest

from limelight._optional import pandas
from limelight.errors import MissingDependencyError


def test_pandas_is_returned_when_installed():
    pytest.importorskip("pandas")
    assert pandas().DataFrame([{"a": 1}]).shape == (1, 1)


def test_a_missing_pandas_names_what_needed_it_and_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"reading job results needs pandas: pip install 'limelight\[pandas\]'"):
        pandas("reading job results")
