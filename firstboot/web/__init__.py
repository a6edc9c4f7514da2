"""The wizard's web face: one page on http://localhost (and the machine's address) until done."""
