"""Runs the erphub template on one machine: embedded AWS (moto), HTTP gateway, pollers, vendor sandbox, CLI."""
