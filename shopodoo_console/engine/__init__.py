"""The sync engine: job keys, the durable queue, retry policy, runner and scheduler.

Plain synchronous Python; knows flows only through :mod:`shopodoo_console.engine.flows`.
Never imports Textual.
"""
