// Render a stored contract version with the locally served Swagger UI (no CDN).
(function () {
  var node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({
    url: node.dataset.url,
    domNode: node,
    deepLinking: true,
    supportedSubmitMethods: [],  // documentation only: never call the app from here
  });
})();
