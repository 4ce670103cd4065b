"""Command-line tools: ``flask demo``, ``flask worker``, ``flask db-roles``."""
import click
from flask import Flask, current_app


def register_cli(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--password", default=None, help="Password of the demo accounts.")
    def demo(password):
        """Load the demo organisations (idempotent) and print their logins."""
        from app.demo import DEMO_PASSWORD, load_demo

        password = password or DEMO_PASSWORD
        logins = load_demo(password)
        click.echo("\nStoria demo — open http://127.0.0.1:5000 and sign in with:")
        for email, name, roles in logins:
            click.echo(f"  {email:<26} password {password:<20} {name}: {roles}")
        click.echo("")

    @app.cli.command("purge")
    def purge():
        """Delete expired rate-limit counts and login attempts (run daily)."""
        from app.ratelimit import purge_expired

        click.echo(f"removed {purge_expired()} expired rows")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker(burst):
        """Run the background job worker (needs REDIS_URL)."""
        from app.jobs import run_worker

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: jobs already run inside the web process.")
        run_worker(current_app._get_current_object(), burst=burst)
