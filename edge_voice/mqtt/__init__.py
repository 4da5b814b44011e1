"""MQTT: the contract (topics, commands, parsing, payloads, discovery: pure code) and the runtime
(bridge, connection, outbox, router, snapshots, replay, arbitration) that wires it to a broker.

docs/MQTT_API.md documents the contract; `tools/mqtt_api_doc.py` keeps it in step.
"""
