"""Everything that leaves the service: the channels (公众号, WeCom, sandbox), notices and the outbox worker."""
