"""A faithful local Shopify Admin GraphQL API for tests, the demo and benchmarks.

Standalone: imports nothing from the product. Entry points:

* :class:`ShopifySimulator` — start/stop a server on 127.0.0.1 from Python;
* :func:`generate` — a realistic deterministic scenario from a seed and counts;
* ``python -m shopodoo_console.sim.shopify`` — the same from the command line (:func:`main`).
"""

from .cli import main
from .control import Control
from .cost import PLANS
from .faults import FaultRule, Faults
from .scenario import generate
from .server import ShopifySimulator

__all__ = ["PLANS", "Control", "FaultRule", "Faults", "ShopifySimulator", "generate", "main"]
