"""tsundoku: self-hosted manga discovery with a private Codex ownership overlay."""

__version__ = "0.1.0"
