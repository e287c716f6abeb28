"""The webhook front door: verify, classify, store once, answer."""
