"""HTML pages and HTMX fragments, one module per part of the product: validate, call one service or
selector, render."""
