"""The import contracts of pyproject.toml's [tool.importlinter] hold, so that `make test`
fails on a layering violation as `make lint` does: agenda may import stakeholders and
pmo5p, stakeholders may import pmo5p, never the reverse; and no app imports the tests.

A copy of the tree with one forbidden import added shows that the contracts do catch one,
so that they cannot pass by checking nothing.

Two rules of the figures (docs/figures.md) are held the same way: the minimum group size is
read in one policy module, stakeholders/surveys/anonymity.py, and figures are rounded in one
place, agenda/figures/present.py, never by a template's own floatformat.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The command `make lint` runs, from the same virtualenv as the tests.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ["pmo5p", "stakeholders", "agenda", "tests"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # Without a cache: runs in parallel (pytest-xdist) or in a copy must not share one.
    # Without PYTHONPATH: the packages are those of `cwd`, which lint-imports puts first.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(  # noqa: S603 (our own command line)
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Layers: agenda > stakeholders > pmo5p KEPT" in output
    assert "App code does not import the tests KEPT" in output


@pytest.mark.parametrize(
    ("module", "added", "broken"),
    [
        ("stakeholders/selectors.py", "import agenda.models", "stakeholders is not allowed to import agenda"),
        ("pmo5p/tenancy.py", "import stakeholders.models", "pmo5p is not allowed to import stakeholders"),
        ("agenda/figures/survey.py", "import tests.factories", "agenda is not allowed to import tests"),
    ],
    ids=["stakeholders-imports-agenda", "pmo5p-imports-stakeholders", "agenda-imports-tests"],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, added, broken):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a") as source:
        source.write(f"\n{added}  # noqa\n")

    result = lint_imports(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert broken in output, output
    assert f"{module.removesuffix('.py').replace('/', '.')} -> {added.split()[1]}" in output, output


# One policy module, one rounding ------------------------------------------------------------------

APPS = ["agenda", "stakeholders", "pmo5p"]
GROUP_SIZE_READERS = {"pmo5p/settings.py", "stakeholders/surveys/anonymity.py"}


def files_naming(pattern: str, roots: list[Path], suffix: str) -> set[str]:
    found = set()
    for root in roots:
        for path in root.rglob(f"*{suffix}"):
            if re.search(pattern, path.read_text(encoding="utf-8")):
                found.add(path.relative_to(ROOT).as_posix())
    return found


def test_the_minimum_group_size_is_read_in_the_anonymity_module_only():
    """Every page, export, API and e-mail asks stakeholders/surveys/anonymity.py
    (group_is_shown, hidden_groups, enough_responses, min_group_size); none applies the
    setting itself, so the rule cannot drift between them."""
    assert files_naming(r"MIN_GROUP_SIZE", [ROOT / app for app in APPS], ".py") == GROUP_SIZE_READERS


def test_templates_leave_the_rounding_of_figures_to_the_figures_filters():
    """Scores, changes, priorities, rates and NPS are shown through agenda/templatetags/figures.py,
    which rounds as agenda/figures/present.py decides. floatformat with a fixed number of
    decimals, or widthratio, in a template would round a figure a second way."""
    # floatformat:"0g" (a count with thousands separators) and :"-1" (days lost) are not figures.
    rounding = r"floatformat:\s*\"?[0-9]+\"?(?=\s*[}|])|widthratio"
    assert files_naming(rounding, [ROOT / "templates"], ".html") == set()
    assert files_naming(rounding, [ROOT / "templates"], ".txt") == set()
