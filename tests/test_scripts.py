"""The benchmark scripts import the product's modules by name: a move in the product must
not leave `make benchmark` or `make benchmark-scale` broken until someone runs them."""

import importlib
from pathlib import Path

import pytest

SCRIPTS = sorted(
    p.stem for p in (Path(__file__).resolve().parent.parent / "scripts").glob("*.py") if p.stem != "__init__"
)


@pytest.mark.parametrize("name", [s for s in SCRIPTS if s != "bench_settings"])
def test_the_script_imports(name):
    # bench_settings is a settings module (star-imports pmo5p.settings): it is read by gunicorn, not imported here.
    assert importlib.import_module(f"scripts.{name}")
