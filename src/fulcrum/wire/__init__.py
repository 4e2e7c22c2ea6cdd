"""The HTTP wire contract between client and server: pydantic models and route paths."""
