"""``modelsnest prices …`` and route cost prices from the command line."""

from __future__ import annotations

import asyncio

from modelsnest.catalog import prices as catalog_prices
from modelsnest.db.engine import create_engine, create_session_factory
from tests.cli.conftest import Invoke, assert_one_line_error


def history(database_url: str, slug: str) -> list[catalog_prices.PriceVersion]:
    async def read() -> list[catalog_prices.PriceVersion]:
        engine = create_engine(database_url, pool_size=1)
        try:
            return await catalog_prices.price_history(create_session_factory(engine), slug)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_prices_set_keeps_the_other_dimensions_and_the_history(cli: Invoke, database_url: str) -> None:
    assert cli("seed").exit_code == 0
    changed = cli(
        "prices",
        "set",
        "claude-sonnet-4",
        "--output",
        "0.012",
        "--price",
        "input>100000=0.004",
        "--reason",
        "promo",
    )
    assert changed.exit_code == 0, changed.stderr
    assert "claude-sonnet-4 price version" in changed.stdout and "output $0.012" in changed.stdout
    assert "cache_write $0.00375" in changed.stdout  # the dimensions not given are kept
    versions = history(database_url, "claude-sonnet-4")
    assert [(v.source, v.reason) for v in versions] == [("operator", "promo"), ("seed", "catalog seed")]
    assert versions[0].actor is not None and versions[0].actor.startswith("cli")
    shown = cli("prices", "show", "claude-sonnet-4")
    assert shown.exit_code == 0
    assert "input>100000" in shown.stdout and "promo" in shown.stdout and "catalog seed" in shown.stdout

    cleared = cli("prices", "set", "claude-sonnet-4", "--clear", "input>100000", "--reason", "end of promo")
    assert cleared.exit_code == 0, cleared.stderr
    assert "input>100000" not in cleared.stdout
    images = cli("prices", "set", "gpt-image-1", "--price", "image:1024x1024/high=0.2", "--reason", "r")
    assert images.exit_code == 0 and "image:1024x1024/high $0.2" in images.stdout


def test_prices_set_refuses_bad_input_in_one_line(cli: Invoke) -> None:
    assert cli("seed").exit_code == 0
    assert_one_line_error(
        cli("prices", "set", "deepseek", "--price", "image:1024x1024=0.1", "--reason", "r"), "per_image"
    )
    assert_one_line_error(
        cli("prices", "set", "deepseek", "--price", "cached_input", "--reason", "r"), "KEY=USD"
    )
    assert_one_line_error(cli("prices", "set", "deepseek", "--input", "abc", "--reason", "r"), "not a number")
    assert_one_line_error(
        cli("prices", "set", "deepseek", "--clear", "reasoning", "--reason", "r"), "no such component"
    )
    assert_one_line_error(cli("prices", "set", "nope", "--input", "1", "--reason", "r"), "no model")


def test_route_cost_prices_and_the_costs_above_price_list(cli: Invoke) -> None:
    assert cli("seed").exit_code == 0
    added = cli(
        "routes",
        "add",
        "gpt-4o",
        "simulator",
        "gpt-4o-copy",
        "--cost-input",
        "0.003",
        "--cost-output",
        "0.009",
    )
    assert added.exit_code == 0, added.stderr
    assert "cost price version" in added.stdout
    route_id = added.stdout.split("id ")[1].split()[0].strip(",")
    listed = cli("routes", "list", "gpt-4o")
    row = next(line for line in listed.stdout.splitlines() if "gpt-4o-copy" in line)
    assert row.split()[6] == route_id and "input $0.003" in row
    above = cli("prices", "costs-above")
    assert above.exit_code == 0
    # 0.003 > 0.0025 input, and cached tokens (sold at 0.00125) cost the full 0.003 input price.
    lines = [line.split() for line in above.stdout.splitlines() if line.startswith(route_id + " ")]
    assert sorted(cells[3] for cells in lines) == ["cached_input", "input"]
    unknown = cli("routes", "cost", route_id, "--unknown", "--reason", "contract ended")
    assert unknown.exit_code == 0 and "unknown" in unknown.stdout
    assert route_id + " " not in cli("prices", "costs-above").stdout
    assert_one_line_error(cli("routes", "cost", route_id, "--reason", "r"), "--unknown")
    assert_one_line_error(cli("routes", "cost", "999999", "--input", "1", "--reason", "r"), "no route")


def test_margins_command_reads_the_rollups(cli: Invoke) -> None:
    assert cli("seed").exit_code == 0
    shown = cli("prices", "margins", "--by", "provider", "--from", "2026-01-01", "--to", "2026-01-31")
    assert shown.exit_code == 0, shown.stderr
    assert "2026-01-01 to 2026-01-31, by provider" in shown.stdout and "MARGIN" in shown.stdout
    assert_one_line_error(cli("prices", "margins", "--by", "planet"), "model, provider or user")
