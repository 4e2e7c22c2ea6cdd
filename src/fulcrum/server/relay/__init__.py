"""Endpoints of the relay role (accounts, keys, messages, queue, push, attachments, groups)."""
