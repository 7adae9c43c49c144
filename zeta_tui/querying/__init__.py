"""Query catalogs (queries/) and query syntaxes."""
