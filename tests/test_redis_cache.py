"""The Redis cache of production (pmo5p/cache.py), which the rate limiter calls on every
public survey request: Django's behaviour, at fewer round trips and less CPU."""

import pytest

from pmo5p.cache import RedisCache
from tests.service_fixtures import _redis_or_skip

pytestmark = pytest.mark.services


@pytest.fixture
def cache():
    backend = RedisCache(_redis_or_skip(), {"KEY_PREFIX": "pmo5p-test-cache"})
    yield backend
    backend.delete_many(["counter", "missing"])


def test_incr_is_djangos_in_one_round_trip(cache, monkeypatch):
    cache.delete("missing")
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    assert cache.get("missing") is None  # not created by the increment

    assert cache.add("counter", 1, 60)
    assert not cache.add("counter", 1, 60)  # as the rate limiter finds it, the second time
    assert cache.incr("counter") == 2  # the first loads the script into Redis, if need be
    client = cache._cache.get_client(write=True)
    sent, send = [], client.execute_command
    monkeypatch.setattr(
        client, "execute_command", lambda *args, **options: sent.append(args[0]) or send(*args, **options)
    )
    assert cache.incr("counter") == 3
    assert cache.incr("counter", 10) == 13
    assert sent == ["EVALSHA", "EVALSHA"]  # Django's asks EXISTS, then INCRBY, each time
    assert cache.get("counter") == 13
    assert 0 < cache._cache.get_client().ttl(cache.make_key("counter")) <= 60  # the expiry kept


def test_one_redis_client_per_pool(cache):
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client("counter") is client  # one server: reads and writes share it
