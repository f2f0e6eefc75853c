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

  // One-time secrets: focusing the field selects it, ready to copy.
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[data-select-on-focus]")) target.select();
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

  // Copy buttons: data-copy names the element whose text (or an input's value) is copied.
  // The button says what happened, and so does its live region for screen readers.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent;
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    function say(message) {
      button.textContent = message;
      button.setAttribute("aria-live", "polite");
      window.clearTimeout(button._copyTimer);
      button._copyTimer = window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    if (!navigator.clipboard) {
      say("Select and copy");
      return;
    }
    navigator.clipboard.writeText(text).then(
      function () { say("Copied"); },
      function () { say("Copy failed: select the text"); }
    );
  });

  // A read-only secret is selected whole when focused, ready to copy by keyboard.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  // Tabs (WAI-ARIA pattern): without JavaScript every panel shows, one after the other.
  function selectTab(tabs, tab) {
    tabs.querySelectorAll('[role="tab"]').forEach(function (other) {
      var selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
  }
  document.querySelectorAll("[data-tabs]").forEach(function (tabs) {
    var first = tabs.querySelector('[role="tab"]');
    if (first) selectTab(tabs, first);
  });
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest('[data-tabs] [role="tab"]');
    if (tab) selectTab(tab.closest("[data-tabs]"), tab);
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest('[data-tabs] [role="tab"]');
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var all = Array.prototype.slice.call(tab.parentElement.querySelectorAll('[role="tab"]'));
    var step = event.key === "ArrowRight" ? 1 : -1;
    var next = all[(all.indexOf(tab) + step + all.length) % all.length];
    selectTab(tab.closest("[data-tabs]"), next);
    next.focus();
    event.preventDefault();
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
