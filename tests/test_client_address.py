"""pmo5p.client.client_address: the one place that says who the client is, for every
rate limit (django-ratelimit's "ip" key) and the sign-in throttle."""

import pytest
from django.test import RequestFactory

from pmo5p.client import client_address


def request(remote="10.0.0.2", forwarded=None, real_ip=None):
    headers = {}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    if real_ip is not None:
        headers["HTTP_X_REAL_IP"] = real_ip
    return RequestFactory().get("/s/x/", REMOTE_ADDR=remote, **headers)


@pytest.fixture
def proxies(settings):
    def behind(count):
        settings.BEHIND_TLS_PROXY = True
        settings.TRUSTED_PROXY_COUNT = count

    return behind


def test_without_proxy_mode_the_socket_address_counts(settings):
    settings.BEHIND_TLS_PROXY = False
    assert client_address(request("198.51.100.7", "203.0.113.1", "192.0.2.1")) == "198.51.100.7"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "203.0.113.1, 198.51.100.7", "198.51.100.7"),
        (1, "203.0.113.1,198.51.100.7", "198.51.100.7"),
        (1, "  , 203.0.113.1 ,, 198.51.100.7 ", "198.51.100.7"),  # empty entries are nobody's
        (2, "203.0.113.1, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (3, "203.0.113.1, 198.51.100.7, 10.0.0.8, 10.0.0.9", "198.51.100.7"),
        (1, "203.0.113.1, 2001:db8::7", "2001:db8::7"),
    ],
)
def test_behind_proxies_the_entry_the_outermost_trusted_proxy_appended_counts(proxies, count, forwarded, expected):
    proxies(count)
    assert client_address(request(forwarded=forwarded, real_ip="192.0.2.1")) == expected


def test_x_real_ip_is_never_used(proxies):
    proxies(1)
    assert client_address(request(real_ip="192.0.2.1")) == "10.0.0.2"
    assert client_address(request(forwarded="198.51.100.7", real_ip="192.0.2.1")) == "198.51.100.7"


@pytest.mark.parametrize(("count", "forwarded"), [(1, None), (1, ""), (1, " , "), (2, "198.51.100.7"), (3, "a, b")])
def test_fewer_entries_than_proxies_falls_back_to_the_socket_address(proxies, caplog, count, forwarded):
    """The request skipped part of the proxy chain: no trusted proxy named the client."""
    proxies(count)
    assert client_address(request(forwarded=forwarded)) == "10.0.0.2"
    assert "counting by REMOTE_ADDR" in caplog.text


@pytest.mark.parametrize("entry", ["unknown", "198.51.100.7:5555", "<script>", "203.0.113.1\nforged log line"])
def test_an_entry_that_is_no_address_falls_back_to_the_socket_address(proxies, caplog, entry):
    """Only a client can write this where a proxy's entry is expected: the count is set too high."""
    proxies(2)
    assert client_address(request(forwarded=f"{entry}, 10.0.0.9")) == "10.0.0.2"
    assert "\nforged" not in caplog.text  # logged as repr(), one line
