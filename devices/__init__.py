"""Hardware drivers: scanners, scales, printers, GPIO, HID gadget.

Protocol logic is sans-IO (bytes or key events in, typed readings out); transports are thin.
No business logic, no database and no MQTT live here.
"""
