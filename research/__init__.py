"""Research code around ser-bnn that is not part of the product (run from the repository root)."""
