"""Server-rendered pages (Jinja2 + htmx): the design system, the accounts pages and the
dashboard. ``web.setup.install_web(app, settings)`` mounts it all; see ``web.deps`` for the
dependencies page routes use and ``web.templating`` for the filters and globals."""
