"""Colony's Gymnasium environment host (docs/envhost.md): serves N Gymnasium environments to a
Colony process over ZeroMQ in Colony's wire format (docs/wire.md), with same-step autoreset."""
