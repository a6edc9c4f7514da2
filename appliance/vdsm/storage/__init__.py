"""VDSM's storage vocabulary: a file storage domain holds images, each a chain of volumes."""
