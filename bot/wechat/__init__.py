"""The WeChat wire protocol: signatures, AES envelopes, incoming XML and passive replies."""
