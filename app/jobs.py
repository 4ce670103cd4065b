"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, run at once otherwise (same code)."""
from flask import current_app


def enqueue(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` in the worker, or now when no Redis is configured."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return func(*args, **kwargs)
    from redis import Redis
    from rq import Queue

    return Queue("storia", connection=Redis.from_url(url)).enqueue(func, *args, **kwargs)


def run_worker(app, *, burst: bool = False) -> None:
    """Process queued jobs with the app's configuration (``flask worker``)."""
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(app.config["REDIS_URL"])
    with app.app_context():
        Worker([Queue("storia", connection=connection)], connection=connection).work(burst=burst)
