"""The worker's entry point: processes a batch of numbers and reports as JSON."""

import json
import os

import click


@click.command()
@click.option("--count", default=3, show_default=True, help="How many items to process.")
def main(count: int) -> None:
    total = sum(i * i for i in range(count))
    click.echo(json.dumps({"app": "worker-cli", "processed": count, "total": total, "uid": os.getuid()}))
