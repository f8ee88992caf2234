"""The cloud sync service: applies box journals, owns the stock truth, drives the shop connectors."""
