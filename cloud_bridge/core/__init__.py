"""The bridge's pure core: what to do with a shop, decided over plain values, with no database and no IO.

`cloud_bridge.sync`'s driver reads the facts (through `cloud_bridge.state` and the other stores), asks
these planners what follows, has the connector do it and records the outcome. Each planner is tested
without a database (tests/test_bridge_core*.py); an import contract keeps peewee and the stores out.
"""
