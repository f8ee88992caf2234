"""The shop owner's web page on the cloud bridge: sales by channel, stock, orders waiting for pickup,
parked problems and the fleet, one shop per login (see docs/web.md)."""
