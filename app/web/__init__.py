"""Server-rendered pages (Jinja2), page sessions, static files."""
