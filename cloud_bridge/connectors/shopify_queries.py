"""The GraphQL documents the Shopify connector sends, with an estimate of what each costs.

Inputs always travel as variables, never spliced into the document. Estimates follow Shopify's rules
(objects 1 point, a connection 2 + `first` × its node, mutations 10) and only matter until the first
answer reports the real `requestedQueryCost`.
"""

from __future__ import annotations

from typing import Final

MUTATION_COST: Final = 10
ORDER_PAGE: Final = 6  # an order node with its lines' properties costs ~157 points: a page stays < 1000
LIST_PAGE: Final = 250  # orders a listing query (1 point each): Shopify's largest page
ORDER_LINES: Final = 25
PRODUCT_PAGE: Final = 100

VARIANTS: Final = """
query Variants($query: String!, $first: Int!, $location: ID!) {
  productVariants(first: $first, query: $query) {
    nodes {
      id
      sku
      inventoryItem {
        id
        tracked
        inventoryLevel(locationId: $location) {
          updatedAt
          quantities(names: ["available"]) { name quantity }
        }
      }
    }
  }
}
"""

_CHANGES: Final = """
    inventoryAdjustmentGroup { changes { name delta quantityAfterChange item { id } } }
    userErrors { code field message }
"""

ADJUST: Final = (
    "mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {\n"
    "  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {" + _CHANGES + "  }\n}\n"
)

SET: Final = (
    "mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {\n"
    "  inventorySetQuantities(input: $input) @idempotent(key: $key) {" + _CHANGES + "  }\n}\n"
)

_ORDER_FIELDS: Final = f"""
      id
      name
      createdAt
      updatedAt
      cancelledAt
      displayFinancialStatus
      displayFulfillmentStatus
      currencyCode
      totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
      customer {{ displayName }}
      note
      phone
      customAttributes {{ key value }}
      shippingAddress {{ address1 address2 zip city phone }}
      totalOutstandingSet {{ shopMoney {{ amount }} }}
      lineItems(first: {ORDER_LINES}) {{
        nodes {{
          id sku name variantTitle quantity discountedUnitPriceSet {{ shopMoney {{ amount }} }}
          customAttributes {{ key value }} product {{ productType tags }}
        }}
      }}
      fulfillmentOrders(first: 5) {{
        nodes {{ id status deliveryMethod {{ methodType }} assignedLocation {{ location {{ id }} }} }}
      }}
"""

ORDERS: Final = (
    "query Orders($first: Int!, $after: String, $query: String) {\n"
    "  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {\n"
    "    nodes {" + _ORDER_FIELDS + "    }\n"
    "    pageInfo { hasNextPage endCursor }\n  }\n}\n"
)

ORDER_LIST: Final = """
query OrderList($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { id updatedAt displayFinancialStatus displayFulfillmentStatus cancelledAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ORDER: Final = "query Order($id: ID!) {\n  order(id: $id) {" + _ORDER_FIELDS + "  }\n}\n"

ORDER_ATTRIBUTES: Final = """
query OrderAttributes($id: ID!) {
  order(id: $id) { customAttributes { key value } }
}
"""

ORDER_UPDATE: Final = """
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}
"""

PREPARED_FOR_PICKUP: Final = """
mutation Prepared($input: FulfillmentOrderLineItemsPreparedForPickupInput!) {
  fulfillmentOrderLineItemsPreparedForPickup(input: $input) { userErrors { field message } }
}
"""

FULFILLMENT_ORDERS: Final = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status assignedLocation { location { id } } } } }
}
"""

SPLIT_LINES: Final = f"""
query SplitLines($id: ID!) {{
  order(id: $id) {{
    fulfillmentOrders(first: 5) {{
      nodes {{
        id status assignedLocation {{ location {{ id }} }}
        lineItems(first: {ORDER_LINES}) {{
          nodes {{ lineItem {{ id sku }} totalQuantity remainingQuantity }}
        }}
      }}
    }}
  }}
}}
"""

FULFILL: Final = """
mutation Fulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

CATALOG: Final = """
query Catalog($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes { id sku barcode title price updatedAt product { title } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CATALOG_WITH_UNIT: Final = """
query Catalog($first: Int!, $after: String, $query: String, $unitNamespace: String!, $unitKey: String!) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes {
      id sku barcode title price updatedAt
      unit: metafield(namespace: $unitNamespace, key: $unitKey) { value }
      product { title unit: metafield(namespace: $unitNamespace, key: $unitKey) { value } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def variants_cost(first: int) -> int:
    return 2 + first * 4


def _order_node_cost() -> int:
    lines = 2 + ORDER_LINES * 5
    fulfillment_orders = 2 + 5 * 4  # deliveryMethod, assignedLocation { location }
    floor = 1 + 1 + 2  # customAttributes, shippingAddress, totalOutstandingSet
    return 1 + 2 + 1 + floor + lines + fulfillment_orders


def fulfillment_orders_cost() -> int:
    return 1 + 2 + 5 * (1 + 2)  # order, fulfillmentOrders; each: assignedLocation { location }


def split_lines_cost() -> int:
    """278 points: an order's fulfillment orders with their line items (each with its order line)."""
    lines = 2 + ORDER_LINES * 2
    return 1 + 2 + 5 * (1 + 2 + lines)


def orders_cost() -> int:
    return 2 + ORDER_PAGE * _order_node_cost() + 1


def order_list_cost() -> int:
    return 2 + LIST_PAGE * 1 + 1


def order_cost() -> int:
    return _order_node_cost()


def catalog_cost() -> int:
    return 2 + PRODUCT_PAGE * 4 + 1


PHONE_TAG: Final = "tillbridge-phone"  # the tag every phone order the bridge creates carries
PHONE_LOOKUP: Final = 50  # recent phone orders searched for a ref before creating one

PHONE_ORDERS: Final = """
query PhoneOrders($first: Int!, $query: String!) {
  orders(first: $first, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes { id customAttributes { key value } }
  }
}
"""

OPEN_DRAFTS: Final = """
query OpenDrafts($first: Int!, $query: String!) {
  draftOrders(first: $first, query: $query, sortKey: UPDATED_AT, reverse: true) {
    nodes { id customAttributes { key value } }
  }
}
"""

DRAFT_CREATE: Final = """
mutation DraftCreate($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) { draftOrder { id } userErrors { field message } }
}
"""

DRAFT_COMPLETE: Final = """
mutation DraftComplete($id: ID!) {
  draftOrderComplete(id: $id, paymentPending: true) {
    draftOrder { id order { id } }
    userErrors { field message }
  }
}
"""


def phone_orders_cost() -> int:
    return 2 + PHONE_LOOKUP * 2
