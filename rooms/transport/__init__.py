"""The Socket.IO transport: the hub (events in, broadcasts out), the boundary gate,
Engine.IO tuning (pings, queue caps) and the server runners with their patches."""
