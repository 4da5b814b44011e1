"""OpenAI Realtime: model catalog, voices, cost, the websocket client and model migration."""
