"""The only package that does I/O: HTTP and WebSocket endpoints, tokens, brokers, the CLI."""
