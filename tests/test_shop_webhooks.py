"""Webhooks delivered by the simulators over HTTP and checked by the connectors: signatures over the raw
body, WooCommerce's unsigned creation ping, tampering, secret rotation, and WooCommerce disabling a
webhook after repeated failed deliveries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from cloud_bridge.connectors import OrderState
from cloud_bridge.errors import MalformedWebhook, WebhookRejected
from simulators.shops import ManualClock, ShopifySimulator, WooCommerceSimulator
from simulators.shops.webhooks import sign
from tests.shop_helpers import SMALL, WebhookInbox, shopify, webhook_inbox, woo


@pytest.fixture
def inbox() -> Iterator[WebhookInbox]:
    with webhook_inbox() as box:
        yield box


def _create_woo_webhook(sim: WooCommerceSimulator, topic: str, url: str, secret: str = "whsec") -> int:
    reply = requests.post(
        f"{sim.url}/wp-json/wc/v3/webhooks",
        json={"name": "tillbridge", "topic": topic, "delivery_url": url, "secret": secret},
        auth=(sim.consumer_key, sim.consumer_secret),
        timeout=5,
    )
    assert reply.status_code == 201
    return int(reply.json()["id"])


def test_woocommerce_ping_then_signed_order_webhook(inbox: WebhookInbox) -> None:
    with WooCommerceSimulator(SMALL) as sim:
        connector = woo(sim, ManualClock())
        hook_id = _create_woo_webhook(sim, "order.created", inbox.url)
        ping = inbox.next()
        assert "x-wc-webhook-signature" not in {k.lower() for k in ping.headers}
        assert connector.verify_webhook(ping.headers, ping.body) is None
        order_id = sim.place_order("OIL-1L", 2)
        delivery = inbox.next()
        event = connector.verify_webhook(delivery.headers, delivery.body)
        assert event is not None and event.topic == "order.created" and event.resource == "order"
        assert event.order is not None and event.order.order_id == str(order_id)
        assert event.order.state is OrderState.PAID and event.order.lines[0].qty == 2
        assert event.event_id.startswith(f"order:{order_id}@")
        assert sim.webhook_status(hook_id) == "active"


def test_woocommerce_tampered_unsigned_and_foreign_webhooks_are_rejected(inbox: WebhookInbox) -> None:
    with WooCommerceSimulator(SMALL) as sim:
        connector = woo(sim, ManualClock())
        _create_woo_webhook(sim, "product.updated", inbox.url)
        inbox.next()  # ping
        sim.set_price("BREAD", 200)
        delivery = inbox.next()
        event = connector.verify_webhook(delivery.headers, delivery.body)
        assert event is not None and [(p.sku, p.price_cents) for p in event.products] == [("BREAD", 200)]
        tampered = delivery.body.replace(b"2.00", b"0.01")
        with pytest.raises(WebhookRejected, match="does not match"):
            connector.verify_webhook(delivery.headers, tampered)
        unsigned = {k: v for k, v in delivery.headers.items() if k.lower() != "x-wc-webhook-signature"}
        with pytest.raises(WebhookRejected, match="without"):
            connector.verify_webhook(unsigned, delivery.body)
        with pytest.raises(WebhookRejected):
            woo(sim, ManualClock(), webhook_secrets=("other",)).verify_webhook(
                delivery.headers, delivery.body
            )


def test_woocommerce_disables_a_webhook_after_more_than_five_failures(inbox: WebhookInbox) -> None:
    with WooCommerceSimulator(SMALL) as sim:
        hook_id = _create_woo_webhook(sim, "order.created", inbox.url)
        inbox.next()
        inbox.status = 500
        for _ in range(7):
            sim.place_order("MILK-1L", 1)
        assert sim.deliveries_done()
        assert inbox.received.qsize() == 6  # the seventh is never sent, and failures are never retried
        assert sim.webhook_status(hook_id) == "disabled"


def test_a_signed_but_malformed_body_is_a_typed_error() -> None:
    with WooCommerceSimulator(SMALL) as sim:
        connector = woo(sim, ManualClock())
        body = b'{"id": "x", "status": 5}'
        headers = {"X-WC-Webhook-Signature": sign(body, "whsec"), "X-WC-Webhook-Topic": "order.updated"}
        with pytest.raises(MalformedWebhook):
            connector.verify_webhook(headers, body)


def test_shopify_order_webhook_verified_with_the_old_or_new_secret(inbox: WebhookInbox) -> None:
    clock = ManualClock()
    with ShopifySimulator(SMALL, clock=clock) as sim:
        sim.subscribe("orders/create", inbox.url)
        order_gid = sim.place_order("BREAD", 3)
        delivery = inbox.next()
        rotated = shopify(sim, clock, webhook_secrets=("new-secret", sim.client_secret))
        event = rotated.verify_webhook(delivery.headers, delivery.body)
        assert event is not None and event.order is not None
        assert (event.order.order_id, event.order.lines[0].sku, event.order.total_cents) == (
            order_gid,
            "BREAD",
            540,
        )
        assert event.event_id == delivery.headers["X-Shopify-Event-Id"]
        with pytest.raises(WebhookRejected):
            shopify(sim, clock, webhook_secrets=("new-secret",)).verify_webhook(
                delivery.headers, delivery.body
            )
        body = json.loads(delivery.body)
        body["line_items"][0]["quantity"] = 1
        with pytest.raises(WebhookRejected):
            rotated.verify_webhook(delivery.headers, json.dumps(body).encode())


def test_shopify_retries_failed_deliveries(inbox: WebhookInbox) -> None:
    clock = ManualClock()
    with ShopifySimulator(SMALL, clock=clock, webhook_retries=2) as sim:
        sim.subscribe("orders/create", inbox.url)
        inbox.status = 503
        sim.place_order("OIL-1L", 1)
        assert sim.deliveries_done()
        deliveries = [inbox.next() for _ in range(3)]
        assert len({d.headers["X-Shopify-Event-Id"] for d in deliveries}) == 1  # one event, three tries
