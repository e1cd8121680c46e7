"""Odoo calls per order: the batched stamped-create style against a naive baseline.

Creates stamped sale orders (each with a new or existing customer and 3 lines whose products
are looked up by SKU) through ``OdooClient`` against the simulator with a fixed latency per
call, in three styles, each on a fresh simulator:

* batched  — the orders flow's style: a worker takes up to ``--batch`` queued orders and makes
  one stamp lookup (orders + customers), one SKU lookup (``in``), one stamped create of the
  new customers and one stamped create of the orders with their lines (``load``);
* per job  — the same with one order per job (``--batch 1``), for reference;
* naive    — one call per lookup: customer by email, each SKU, the order by reference,
  then create customer, order, and its external id in separate calls.

Run: ``python bench/odoo_calls.py`` (``--help`` for sizes). The last line is
``odoo calls per order: X.XX (naive Y.YY)`` for the batched style.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from typing import Any

from shopodoo_console.odoo import OdooClient
from shopodoo_console.sim.odoo import FaultRule, OdooSimulator


@dataclass
class Order:
    number: int
    customer: int
    email: str
    lines: list[tuple[str, float]]  # (SKU, quantity)


def make_orders(count: int, skus: list[str], seed: int = 11) -> list[Order]:
    """Half the orders come from a returning customer, half from a new one."""
    rnd = random.Random(seed)
    orders, customers = [], 0
    for n in range(count):
        if customers and rnd.random() < 0.5:
            customer = rnd.randint(1, customers)
        else:
            customers += 1
            customer = customers
        lines = [(sku, float(rnd.randint(1, 3))) for sku in rnd.sample(skus, 3)]
        orders.append(Order(1000 + n, customer, f"customer{customer}@example.com", lines))
    return orders


def _order_values(
    client: OdooClient, order: Order, partner: int, products: dict[str, int]
) -> dict[str, Any]:
    taxes = client.field_name("sale.order.line", "taxes") or "tax_id"
    return {
        "partner_id": partner,
        "client_order_ref": f"#{order.number}",
        "order_line": [
            (0, 0, {"product_id": products[sku], "product_uom_qty": qty, taxes: [(6, 0, [1])]})
            for sku, qty in order.lines
        ],
    }


def run_batched(client: OdooClient, orders: list[Order], batch: int) -> None:
    for start in range(0, len(orders), batch):
        chunk = orders[start : start + batch]
        order_names = [f"shop_demo_order_{o.number}" for o in chunk]
        partner_names = sorted({f"shop_demo_customer_{o.customer}" for o in chunk})
        stamps = client.find_stamps(order_names + partner_names)  # links before creates
        todo = [o for o, n in zip(chunk, order_names, strict=True) if n not in stamps]
        if not todo:
            continue
        skus = sorted({sku for o in todo for sku, _ in o.lines})
        products = {
            r["default_code"]: r["id"]
            for r in client.search_read_in(
                "product.product", "default_code", skus, ["default_code"]
            )
        }
        partners = {n: rid for n, (_, rid) in stamps.items() if n in partner_names}
        new = {}
        for o in todo:
            name = f"shop_demo_customer_{o.customer}"
            if name not in partners and name not in new:
                new[name] = {"name": f"Customer {o.customer}", "email": o.email, "customer_rank": 1}
        if new:
            partners.update(client.create_stamped_many("res.partner", list(new.items())))
        client.create_stamped_many(
            "sale.order",
            [
                (
                    f"shop_demo_order_{o.number}",
                    _order_values(
                        client, o, partners[f"shop_demo_customer_{o.customer}"], products
                    ),
                )
                for o in todo
            ],
        )


def run_naive(client: OdooClient, orders: list[Order]) -> None:
    for o in orders:
        if client.search("sale.order", [("client_order_ref", "=", f"#{o.number}")], limit=1):
            continue
        found = client.search("res.partner", [("email", "=", o.email)], limit=1)
        partner = (
            found[0]
            if found
            else client.create("res.partner", {"name": f"Customer {o.customer}", "email": o.email})
        )
        products = {}
        for sku, _ in o.lines:
            products[sku] = client.search("product.product", [("default_code", "=", sku)], limit=1)[
                0
            ]
        order_id = client.create(
            "sale.order",
            _order_values(
                client,
                o,
                int(partner),  # type: ignore[arg-type]
                products,
            ),
        )
        client.create(
            "ir.model.data",
            {
                "module": "shopodoo",
                "model": "sale.order",
                "name": f"shop_demo_order_{o.number}",
                "res_id": order_id,
            },
        )


def measure(label: str, orders: list[Order], latency: float, run: Any) -> tuple[float, float]:
    with OdooSimulator(19) as sim:
        client = OdooClient(sim.url, database=sim.database, login=sim.login, api_key=sim.api_key)
        client.connect()
        sim.faults.add(FaultRule(kind="latency", delay=latency, times=None))
        sim.reset_calls()
        started = time.perf_counter()
        run(client, orders)
        elapsed = time.perf_counter() - started
        calls = sim.call_count()
        made = sim.env["sale.order"].search_count([])
        assert made == len(orders), f"{label}: {made} orders for {len(orders)}"
        per_order = calls / len(orders)
        rate = len(orders) / elapsed
        print(
            f"{label:8} {len(orders):4} orders  {calls:5} calls  "
            f"{per_order:5.2f} calls/order  {rate:7.1f} orders/s  "
            f"p50 {client.latency.p50 or 0:5.1f} ms  p95 {client.latency.p95 or 0:5.1f} ms"
        )
        client.close()
        return per_order, rate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=500)
    p.add_argument("--batch", type=int, default=10, help="orders per worker batch")
    p.add_argument(
        "--naive-orders",
        type=int,
        default=100,
        help="orders for the naive and per-job runs (they are slow by design)",
    )
    p.add_argument("--latency-ms", type=float, default=20.0)
    args = p.parse_args(argv)
    skus = [f"SKU-{n:04d}" for n in range(1, 41) if n % 17]  # the scenario's sellable SKUs
    latency = args.latency_ms / 1000
    print(
        f"Odoo 19 simulator, {args.latency_ms:.0f} ms per call, 3 lines per order, "
        "about half the customers new"
    )
    batched, batched_rate = measure(
        "batched",
        make_orders(args.orders, skus),
        latency,
        lambda c, o: run_batched(c, o, args.batch),
    )
    measure(
        "per job", make_orders(args.naive_orders, skus), latency, lambda c, o: run_batched(c, o, 1)
    )
    naive, naive_rate = measure("naive", make_orders(args.naive_orders, skus), latency, run_naive)
    print(
        f"speed-up: {batched_rate / naive_rate:.1f}x orders/s; "
        f"{naive / batched:.1f}x fewer calls per order (batch of {args.batch})"
    )
    print(f"odoo calls per order: {batched:.2f} (naive {naive:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
