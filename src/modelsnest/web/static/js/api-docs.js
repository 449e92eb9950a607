/* The OpenAPI explorer at /api-docs: Swagger UI (vendored) on our own schema. Kept out of the
   page itself because the CSP allows no inline script. Swagger UI's dark mode is the
   `dark-mode` class on <html>: it follows the site's theme, toggle included. */
(function () {
  "use strict";
  var root = document.documentElement;
  var mount = document.getElementById("swagger-ui");
  if (!mount || typeof window.SwaggerUIBundle !== "function") return;

  function syncTheme() { root.classList.toggle("dark-mode", root.getAttribute("data-theme") === "dark"); }
  syncTheme();
  new MutationObserver(syncTheme).observe(root, { attributes: true, attributeFilter: ["data-theme"] });

  window.SwaggerUIBundle({
    url: mount.getAttribute("data-spec-url"),
    domNode: mount,
    // Deep links put a link inside each operation's toggle button (nested controls).
    deepLinking: false,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
    // No call to validator.swagger.io (or anywhere else): nothing leaves this site.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
