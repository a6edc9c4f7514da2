"""The wizard's text face on the console (Textual)."""
