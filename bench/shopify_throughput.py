"""How much of Shopify's rate budget the client turns into orders (not a test).

Fetches every order with its line items from the simulator on the standard plan (2000-point
bucket, 100 points/s) the way the product does: a cheap poll (ids and updatedAt), then full
orders in ``nodes(ids:)`` batches sized to the bucket. Budget use is the points really spent
per second against the restore rate, net of what the full bucket at the start lent us; the
target is at least 90 % with no THROTTLED answer. At real rates 5,000 orders take minutes;
``--orders`` makes quick runs possible.

    .venv/bin/python bench/shopify_throughput.py --orders 5000
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from shopodoo_console.shopify import ShopifyClient, StaticToken
from shopodoo_console.sim.shopify import PLANS, ShopifySimulator, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--plan", default="standard", choices=sorted(PLANS))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.monotonic()
    scenario = generate(seed=args.seed, orders=args.orders)
    sim = ShopifySimulator(scenario, plan=args.plan).start()
    print(f"simulated shop with {args.orders} orders ready in {time.monotonic() - started:.1f}s")
    client_events = {"throttled": 0, "wait": 0, "request": 0}

    def on_event(name: str, _data: dict) -> None:
        if name in client_events:
            client_events[name] += 1

    client = ShopifyClient(
        sim.domain, auth=StaticToken(sim.static_token), base_url=sim.base_url, on_event=on_event
    )
    bucket = sim.apps["static"].bucket
    maximum, rate = bucket.maximum, bucket.restore_rate
    start_available = bucket.status()["currentlyAvailable"]
    t0 = time.monotonic()
    try:
        ids = [
            stamp.gid
            for page in client.orders_updated_since(datetime(2000, 1, 1, tzinfo=UTC))
            for stamp in page
        ]
        polled = time.monotonic() - t0
        poll_points = sim.counters["points_spent"]
        orders = client.orders_by_ids(ids)
    finally:
        elapsed = time.monotonic() - t0
        end_available = bucket.status()["currentlyAvailable"]
        client.close()
        sim.stop()
    spent = sim.counters["points_spent"]
    throttled = sim.counters["throttled"]
    lines = sum(len(o["lineItems"]["nodes"]) for o in orders.values() if o)
    missing = sum(1 for o in orders.values() if o is None)
    raw_rate = spent / elapsed
    net_rate = (spent - (start_available - end_available)) / elapsed
    use = 100.0 * net_rate / rate
    print(f"plan {args.plan}: bucket {maximum}, restore rate {rate:g} points/s")
    print(f"poll: {len(ids)} orders in {polled:.1f}s, {poll_points} points")
    print(
        f"fetch: {len(orders) - missing} orders, {lines} line items, {missing} missing, "
        f"{client_events['request']} requests, batch of {client.order_batch_size()} orders"
    )
    print(f"elapsed {elapsed:.1f}s, points spent {spent}, {spent / max(1, len(ids)):.1f} per order")
    print(f"points used per second: {raw_rate:.1f} raw, {net_rate:.1f} net of the starting bucket")
    print(f"restore rate: {rate:g} points/s; client paced itself {client_events['wait']} times")
    print(f"THROTTLED answers: {throttled} (client saw {client_events['throttled']})")
    print(f"shopify budget use: {use:.0f}% with {throttled} throttled")


if __name__ == "__main__":
    main()
