"""The documentation cannot go stale silently.

- Every relative link in README.md and docs/*.md points at a file that exists, and every
  #anchor at a heading of that file, named by GitHub's rules (lowercase, spaces to "-",
  punctuation other than "-" and "_" dropped, "-1", "-2" … for repeated headings).
- README.md links every page of docs/.
- Every environment variable the settings read has a row in the table of
  docs/operations.md.
- No file cites the design notes that are not in the repository.

Plain text checks, no database.
"""

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# [text](target) or [text](target "title"); images too. Not inside code spans (stripped first).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
EXTERNAL = ("http://", "https://", "mailto:")


def prose_lines(path: Path) -> list[str]:
    """The file's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text as rendered, lowercased, with every character
    that is not a letter, digit, space, "-" or "_" dropped, then spaces turned into "-"."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("*", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines(path):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path: Path) -> list[str]:
    found = []
    for line in prose_lines(path):
        found += LINK.findall(CODE_SPAN.sub("", line))
    return found


def test_the_pages_exist():
    names = {page.name for page in DOCS.glob("*.md")}
    assert {"architecture.md", "figures.md", "operations.md", "api.md", "security.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page):
    broken = []
    for target in links(page):
        if target.startswith(EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(
                f"{target}: no file {destination.relative_to(ROOT) if destination.is_relative_to(ROOT) else destination}"
            )
            continue
        if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with the anchor #{anchor} in {destination.relative_to(ROOT)}")
    assert not broken, f"Broken links in {page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_the_link_checker_sees_links_and_anchors():
    """Guards the checks above against passing because they read nothing."""
    assert len(links(ROOT / "README.md")) >= 5
    assert slug("Scheduled reports: what is guaranteed") == "scheduled-reports-what-is-guaranteed"
    assert slug("Sign-in, password reset, sign-up and API tokens") == "sign-in-password-reset-sign-up-and-api-tokens"
    assert slug("The `pmo_view` helper & roles") == "the-pmo_view-helper--roles"
    assert slug("Power–interest grid") == "powerinterest-grid"


def test_the_readme_links_every_page_of_docs():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(ROOT / "README.md")}
    missing = [page.name for page in DOCS.glob("*.md") if page.resolve() not in linked]
    assert not missing, f"README.md does not link docs/{', docs/'.join(missing)}"


ENV_READERS = {"env_bool", "env_int", "env_list", "env_rate"}
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]+")


def _is_environ(node) -> bool:
    """os.environ, or a django-environ reader: environ.Env() or a name bound to one."""
    if isinstance(node, ast.Attribute) and node.attr == "environ":
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
        return getattr(node.func, "attr", getattr(node.func, "id", None)) == "Env"
    return False


def variables_read(path: Path) -> set[str]:
    """The environment variables a module reads: through pmo5p.env's readers, django-environ's
    Env().str()/.bool()/…, os.environ.get() and os.environ[…]."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = None
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            if (isinstance(func, ast.Name) and func.id in ENV_READERS) or (
                isinstance(func, ast.Attribute) and _is_environ(func.value)
            ):
                name = node.args[0].value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and _is_environ(node.value):
            name = node.slice.value
        if isinstance(name, str) and ENV_NAME.fullmatch(name):
            names.add(name)
    return names


def settings_modules() -> list[Path]:
    """pmo5p/settings.py and every other module of the app that reads through pmo5p.env."""
    modules = [ROOT / "pmo5p" / "settings.py"]
    for app in ("pmo5p", "stakeholders", "agenda", "scripts"):
        for path in (ROOT / app).rglob("*.py"):
            if path not in modules and "migrations" not in path.parts and "pmo5p.env" in path.read_text("utf-8"):
                modules.append(path)
    return modules


def documented_variables() -> set[str]:
    text = (DOCS / "operations.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|", text, flags=re.MULTILINE))


def test_every_setting_from_the_environment_is_in_operations():
    read = set().union(*(variables_read(path) for path in settings_modules()))
    # The reader sees what it should: a few that settings.py is known to read.
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "PMO5P_MIN_GROUP_SIZE", "LOG_LEVEL"} <= read
    missing = sorted(read - documented_variables())
    assert not missing, f"Not in the settings table of docs/operations.md: {', '.join(missing)}"


SKIPPED_DIRS = {".venv", ".git", "var", "node_modules", "vendor", "__pycache__", ".pytest_cache", ".ruff_cache"}
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".yml", ".toml", ".cfg", ".js", ".css"}


def test_nothing_cites_notes_outside_the_repository():
    cited = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            path = Path(folder) / name
            if path.suffix not in TEXT_SUFFIXES and name not in {"Makefile", "Dockerfile", "run"}:
                continue
            if path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            # Spelt in pieces, so that this file does not cite them itself.
            for needle in ("design" + ".md", ".." + "/shared"):
                if needle in text:
                    cited.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not cited, "\n".join(cited)
