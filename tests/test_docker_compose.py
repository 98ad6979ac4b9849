"""docker-compose.yml, read as compose reads it (no Docker engine needed): no secret has a
fallback written in the repository, and nothing is published beyond this machine."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SECRET_NAMES = re.compile(r"SECRET|KEY|TOKEN|PASSWORD")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, as compose interpolates them.
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def test_the_file_is_read_with_its_shared_parts():
    """The web, worker and beat services take the shared environment through YAML merge keys."""
    assert {"postgres", "redis", "mail", "web", "worker", "beat"} <= SERVICES.keys()
    for name in ("web", "worker", "beat"):
        assert "DJANGO_SECRET_KEY" in environment(SERVICES[name]), name


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_the_secret_key_is_required_with_no_fallback(name):
    value = environment(SERVICES[name])["DJANGO_SECRET_KEY"]
    match = VARIABLE.fullmatch(value)
    assert match, f"DJANGO_SECRET_KEY must come from the environment, not be written here: {value!r}"
    assert match["name"] == "DJANGO_SECRET_KEY"
    assert match["op"] == ":?", "compose must refuse to start when DJANGO_SECRET_KEY is unset or empty"
    assert "DJANGO_SECRET_KEY" in match["arg"] and ".env" in match["arg"]  # the error says what to do


def test_no_variable_of_a_secret_has_a_default_in_the_file():
    text = (BASE_DIR / "docker-compose.yml").read_text()
    defaults = [
        m.group(0) for m in VARIABLE.finditer(text) if m["op"] in ("-", ":-") and SECRET_NAMES.search(m["name"])
    ]
    assert defaults == []
    assert "change-me" not in text


def host_ips(service: dict) -> list[tuple[str, str]]:
    """(host address, port) of each published port, in compose's short or long syntax."""
    published = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published.append((port.get("host_ip", ""), str(port.get("published", ""))))
            continue
        parts = str(port).split(":")
        host_ip = parts[0] if len(parts) == 3 else ""  # "HOST:CONTAINER" or "CONTAINER" bind every interface
        published.append((host_ip, parts[-2] if len(parts) >= 2 else parts[0]))
    return published


def test_every_published_port_is_bound_to_loopback():
    """Plain HTTP, secure cookies off, and a mail catcher that shows every reset link: this machine only."""
    published = {name: host_ips(service) for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"mail": [("127.0.0.1", "8025")], "web": [("127.0.0.1", "8000")]}


def test_the_port_reader_sees_a_port_open_to_every_interface():
    assert host_ips({"ports": ["8025:8025"]}) == [("", "8025")]
    assert host_ips({"ports": ["0.0.0.0:8000:8000"]}) == [("0.0.0.0", "8000")]  # noqa: S104
    assert host_ips({"ports": [{"target": 80, "published": 8080}]}) == [("", "8080")]
    assert host_ips({"ports": [{"target": 80, "published": 8080, "host_ip": "127.0.0.1"}]}) == [("127.0.0.1", "8080")]


def test_postgres_and_redis_are_not_published():
    assert "ports" not in SERVICES["postgres"]
    assert "ports" not in SERVICES["redis"]


@pytest.mark.parametrize("ignore_file", [".gitignore", ".dockerignore"])
def test_the_env_file_is_neither_committed_nor_copied_into_the_image(ignore_file):
    lines = (BASE_DIR / ignore_file).read_text().split()
    assert ".env" in lines
