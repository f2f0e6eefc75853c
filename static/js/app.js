// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.replace("no-js", "js");

  // Register form: suggest a slug from the name until the person edits the slug themselves.
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  }
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.id === "id_slug") {
      target.dataset.touched = target.value ? "1" : "";
    } else if (target.id === "id_name") {
      var slug = document.getElementById("id_slug");
      if (slug && !slug.disabled && !slug.dataset.touched) slug.value = slugify(target.value);
    }
  });
  // A suggested slug should be checked too, when the name field is left.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "id_name") return;
    var slug = document.getElementById("id_slug");
    if (slug && !slug.disabled && !slug.dataset.touched && slug.value && window.htmx) {
      window.htmx.trigger(slug, "change");
    }
  });

  // Inline validation swaps only a field's error box; mark the field and its controls
  // invalid (or valid again) to match, so the state is announced with the control.
  // Scanning the form's fields is cheap and does not depend on which element swapped.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll(".app-form .field").forEach(function (field) {
      var errors = field.querySelector(".field__errors");
      var invalid = !!(errors && errors.children.length);
      field.classList.toggle("has-error", invalid);
      field.querySelectorAll("input, select, textarea, fieldset").forEach(function (control) {
        if (invalid) control.setAttribute("aria-invalid", "true");
        else control.removeAttribute("aria-invalid");
      });
    });
  });

  // "Depends on" picker: an app ticked in the search results joins the chosen list, so the
  // next search (which replaces the results) does not drop it.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var results = box.closest && box.closest(".app-picker__results");
    if (!results || !box.checked) return;
    var chosen = results.parentElement.querySelector(".app-picker__chosen");
    if (chosen) chosen.appendChild(box.closest("li"));
  });

  // Tell assistive technology when the results table is loading.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var results = document.getElementById("results");
    if (results && event.detail.target === results) results.setAttribute("aria-busy", "true");
  });

  // Forms that undo something ask first (data-confirm holds the question).
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // "Copy" buttons copy the text of the element named by data-copy and say so.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = button.dataset.copied || "Copied";
    });
  });

  // A failed htmx request should not fail silently.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("messages");
    if (!box) return;
    var status = event.detail.xhr.status;
    var note = document.createElement("div");
    note.className = "message message--error";
    note.innerHTML = '<span class="message__icon" aria-hidden="true">!</span><p></p>';
    note.querySelector("p").textContent = status === 403
      ? "You are not allowed to do that."
      : "Something went wrong (" + status + "). Reload the page and try again.";
    box.appendChild(note);
  });
})();
