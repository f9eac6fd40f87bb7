"""The embedded servers the run command starts when DATABASE_URL / REDIS_URL are unset."""

import psycopg
import redis

from helpdesk.launcher.embedded import EmbeddedPostgres, EmbeddedRedis


def test_embedded_redis_starts_serves_and_keeps_data_between_runs(tmp_path):
    first = EmbeddedRedis(tmp_path / "redis")
    url = first.start()
    try:
        client = redis.Redis.from_url(url)
        client.set("greeting", "hello")
        client.save()
    finally:
        first.stop()

    second = EmbeddedRedis(tmp_path / "redis")
    url = second.start()
    try:
        assert redis.Redis.from_url(url).get("greeting") == b"hello"
    finally:
        second.stop()


def test_embedded_postgres_creates_the_database_and_stops(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg", "helpdesk_embedded")
    url = server.start()
    try:
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        with psycopg.connect(
            host=unquote(parsed.hostname or ""), user="postgres", dbname="helpdesk_embedded"
        ) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("helpdesk_embedded",)
    finally:
        server.stop()
    assert not (tmp_path / "pg" / "postmaster.pid").exists()
