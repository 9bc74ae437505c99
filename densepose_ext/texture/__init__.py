"""Texture tools: extract a person's texture atlas, convert atlas <-> SMPL layouts, re-texture."""
