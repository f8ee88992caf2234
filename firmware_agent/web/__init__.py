"""The box's local web page: set-up and health for installers, the order board for the floor (docs/web.md)."""
