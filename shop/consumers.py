"""WebSocket endpoints of the project itself: the answer to a path no stream lives at."""
from channels.generic.websocket import AsyncWebsocketConsumer

CLOSE_NOT_FOUND = 4404  # application close codes are 4000-4999; 4404 mirrors HTTP's 404


class UnknownStreamConsumer(AsyncWebsocketConsumer):
    """Any /ws/ path without a stream (the last route of shop.asgi): accept, then close with
    4404, where Channels' URLRouter would raise ("No route found") and daphne log a traceback."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)
