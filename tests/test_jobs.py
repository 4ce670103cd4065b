"""Background jobs on Redis/RQ: with REDIS_URL set, e-mail is queued, and a worker delivers it over real SMTP."""
import os

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from app import create_app
from app.extensions import db
from app.mail import deliver_mail, send_mail
from tests.conftest import make_config
from tests.helpers import Browser

REDIS_URL = os.environ.get("STORIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE = os.environ.get("STORIA_REQUIRE_POSTGRES") == "1"  # CI: Redis is there, a skip would hide a failure
QUEUE = "storia"  # the queue app.jobs uses


@pytest.fixture
def redis():
    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except RedisError as error:
        connection.close()
        if REQUIRE:
            pytest.fail(f"Redis at {REDIS_URL} does not answer ({error}); CI needs it")
        pytest.skip(f"Redis at {REDIS_URL} does not answer ({error}); set STORIA_TEST_REDIS_URL")
    yield connection
    connection.close()


@pytest.fixture
def queue(redis):
    """The app's queue on the test Redis database, empty before and after the test."""
    queue = Queue(QUEUE, connection=redis)
    queue.empty()
    yield queue
    for registry in (queue.finished_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    queue.delete(delete_jobs=True)


@pytest.fixture
def redis_app(app, database_urls, mail_server):
    """A second app like the shared one, but with REDIS_URL set (the shared app's config is left alone)."""
    application = create_app(make_config(database_urls, mail_server, REDIS_URL=REDIS_URL))
    yield application
    with application.app_context():
        db.engine.dispose()


def _run_worker(redis_app, queue):
    worker = SimpleWorker([queue], connection=queue.connection)
    with redis_app.app_context():
        worker.work(burst=True)
    queue.connection.delete(worker.key)  # its registration would otherwise linger for a minute


def test_send_mail_enqueues_instead_of_sending(redis_app, queue, mail_server):
    with redis_app.app_context():
        send_mail("queued@example.com", "Queued", "Delivered by the worker.")
    [job] = queue.get_jobs()
    assert job.func == deliver_mail
    assert job.args == ("queued@example.com", "Queued", "Delivered by the worker.")
    assert mail_server.messages == []


def test_worker_delivers_queued_mail_over_smtp(redis_app, queue, mail_server):
    with redis_app.app_context():
        send_mail("queued@example.com", "Queued", "Delivered by the worker.")
    [job] = queue.get_jobs()
    _run_worker(redis_app, queue)
    [message] = mail_server.to("queued@example.com")
    assert message["Subject"] == "Queued"
    assert message.get_body(("plain",)).get_content().strip() == "Delivered by the worker."
    assert job.get_status(refresh=True) == "finished"
    assert queue.count == 0


def test_mail_of_a_request_waits_for_the_worker(redis_app, queue, mail_server):
    """A real page that sends mail (forgot password) only queues it; the worker sends it."""
    browser = Browser(redis_app.test_client())
    assert browser.post("/auth/forgot", {"email": "nobody@example.com"}).status_code == 303
    assert mail_server.messages == []
    assert queue.count == 1
    _run_worker(redis_app, queue)
    assert len(mail_server.to("nobody@example.com")) == 1


def test_without_redis_mail_is_sent_at_once(app, mail_server):
    assert app.config["REDIS_URL"] is None
    with app.app_context():
        send_mail("now@example.com", "Now", "Sent in the request.")
    assert len(mail_server.to("now@example.com")) == 1
