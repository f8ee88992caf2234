"""Simulated devices and shops: product code shared by the tests and the demo."""
