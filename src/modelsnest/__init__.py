"""Modelsnest: one OpenAI-compatible API and one key for many AI models."""

__version__ = "0.1.0"
