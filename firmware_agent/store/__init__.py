"""The box's offline store: catalog, stock, the journal (outbox), print queue, de-duplication, settings.

Only the core loop writes to it. See `database.py` for how it is opened and kept safe.
"""

from firmware_agent.store.database import Store, StoreLimits
from firmware_agent.store.records import JournalRecord, PrintJobRecord, ProductRecord

__all__ = ["JournalRecord", "PrintJobRecord", "ProductRecord", "Store", "StoreLimits"]
