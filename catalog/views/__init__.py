"""HTML pages of the registry, one module per area; ``catalog/urls.py`` routes them."""
