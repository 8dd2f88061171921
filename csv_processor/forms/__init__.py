"""HTML forms, one module per part of the product; they validate input and hold no logic."""
