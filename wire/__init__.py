"""The wire contract (v1): topics, message types and validation shared by the box and the cloud bridge."""
