"""Server-rendered pages beyond sign-in: one module per page (routes in `app.web.routes`)."""
