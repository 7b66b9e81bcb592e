"""The parts of `musicapi.webhooks`: verification, parsing, the receiver and the event buses.

`musicapi.webhooks` is the public face; these modules are private and may change:

- `_event`: `WebhookEvent`, the typed event (a plain attrs class).
- `_verify`: the signature and timestamp check over the raw bytes; pure, the clock is
  an argument.
- `_parse`: the body of a verified delivery becomes a `WebhookEvent`, its clips
  structured by the SDK's one converter.
- `_bus`: the `EventBus` protocol, `Subscription` (a thread-safe, loop-neutral mailbox)
  and `InProcessBus`.
- `_receiver`: `WebhookReceiver`, the ASGI app and the WSGI-friendly `handle()`.
- `_redis`: `RedisBus`, the same bus across processes (the optional `redis` extra).
"""
