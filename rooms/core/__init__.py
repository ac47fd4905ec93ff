"""The sync core: live rooms, the op pipeline, join, session and room control, the
ephemeral relay and wire packing. No Flask, no sockets: storage and the events it
emits are injected (rooms/core/events.py)."""
