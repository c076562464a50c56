"""The live stock room: WebSocket fan-out of stock changes to open pages.

- `realtime`: the channel-layer groups, the message shapes and the one sync send the writes use.
- `fanout`: each daphne process's hub, one channel-layer membership per variant.
- `consumers`: the /ws/inventory/ consumer (public stock stream, staff low-stock alerts).
- `routing`: the WebSocket URL patterns shop/asgi.py serves.
"""
