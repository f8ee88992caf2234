"""The link's inbound messages, one module per kind the box subscribes to: `ack`, `catalog`, `orders`,
`commands`, `levels`. Each handler states, as a narrow Protocol, the little it needs of the link; `dispatch`
routes a message to its handler and decides when a failed one is tried again or acknowledged anyway."""
