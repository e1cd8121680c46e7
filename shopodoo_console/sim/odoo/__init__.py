"""A faithful local Odoo 16/17/18/19 for tests, benchmarks and the demo.

Python::

    with OdooSimulator(version=19) as sim:          # 127.0.0.1, free port
        sim.url, sim.database, sim.login, sim.api_key
        sim.env["sale.order"].search_read([("state", "=", "sale")], ["name"])
        sim.faults.add(kind="drop", model="sale.order", method="load")
        sim.call_count("sale.order", "load")

Command line: ``python -m shopodoo_console.sim.odoo --port 0 --version 19``.

Control endpoint (for another process): ``GET /_sim/info``, ``GET|POST|DELETE /_sim/faults``
(POST body = a fault rule, see ``faults.py``), ``GET|DELETE /_sim/calls``, ``POST /_sim/users``
(``{"login", "groups", "company_ids", "company_id", "revoke": {model: [ops]},
"grant": {…}, "expire_api_key": true}``), ``POST /_sim/settings`` (``{"rpc_disabled": true}``),
``POST /_sim/exec`` (``{"model", "method", "args", "kwargs", "context"}`` run as superuser),
``POST /_sim/control/<method>`` (the warehouse's hands: ``set_stock``, ``reserve``, ``quants``,
``pickings``, ``validate_picking``, ``cancel_picking``, ``return_picking`` — see ``control.py``).

This package imports nothing from the product: it stands alone.
"""

from .cli import main
from .faults import FaultRule, Faults
from .scenario import default_scenario, ean13
from .server import VERSIONS, OdooSimulator

__all__ = ["VERSIONS", "FaultRule", "Faults", "OdooSimulator", "default_scenario", "ean13", "main"]
