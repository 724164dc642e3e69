"""LTI 1.3 Advantage, one module per seam: registration and keys, launches, deep linking, roster, grades."""
