// Render a stored contract version with the locally served Swagger UI (no CDN).
(function () {
  var node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({
    url: node.dataset.url,
    domNode: node,
    // A deep link would sit inside each operation's expand button, out of reach of
    // screen readers (axe: nested-interactive); the button alone is accessible.
    deepLinking: false,
    supportedSubmitMethods: [],  // documentation only: never call the app from here
  });
})();
