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
  // next search (which replaces the results) does not drop it. Moving the box blurs it, so
  // it is focused again: ticking with Space must not send keyboard users back to <body>.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var results = box.closest && box.closest(".app-picker__results");
    if (!results || !box.checked) return;
    var chosen = results.parentElement.querySelector(".app-picker__chosen");
    if (!chosen) return;
    chosen.appendChild(box.closest("li"));
    box.focus();
  });
  // Enter in the picker's search searches now instead of submitting the whole form (which
  // would lose an attached contract file to a half-filled submit).
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.classList || !input.classList.contains("app-picker__search")) return;
    event.preventDefault();
    if (window.htmx) window.htmx.trigger(input, "search");
  });

  // After a failed submit the page says what is wrong where the eye and the screen reader
  // are: the error summary if there is one (its links move to the field), otherwise the
  // first invalid control, scrolled to the middle of the screen.
  function controlFor(node) {
    if (!node) return null;
    if (node.matches("input, select, textarea, button")) return node;
    return node.querySelector("input:checked, input, select, textarea") ||
      document.getElementById(node.id + "_search");
  }
  function reveal(node) {
    node.focus({ preventScroll: true });
    node.scrollIntoView({ block: "center" });
  }
  var summary = document.getElementById("error-summary");
  var firstInvalid = document.querySelector("main form [aria-invalid='true']");
  if (summary) reveal(summary);
  else if (firstInvalid) reveal(controlFor(firstInvalid) || firstInvalid);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#error-summary a[href^='#']");
    if (!link) return;
    var control = controlFor(document.getElementById(link.getAttribute("href").slice(1)));
    if (!control) return;
    event.preventDefault();
    reveal(control);
  });

  // htmx keeps focus on a swapped-out element that has an id (sort links, filters). When
  // the focused control has no counterpart in the new content (a "Next" link on the last
  // page), focus goes to the swapped region instead of falling back to <body>.
  var focusedInTarget = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    focusedInTarget = active && active !== document.body && target && target.contains(active)
      ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedInTarget) return;
    var region = document.getElementById(focusedInTarget);
    focusedInTarget = null;
    var active = document.activeElement;
    if (!region || (active && active !== document.body)) return;
    if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
    region.focus({ preventScroll: true });
  });

  // Tell assistive technology when the results table is loading.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var results = document.getElementById("results");
    if (results && event.detail.target === results) results.setAttribute("aria-busy", "true");
  });

  // Phone navigation: below 980 px the Menu button reveals every entry and the user box
  // (CSS hides them until .is-open). Escape or a click elsewhere closes it; Escape hands
  // focus back to the button so keyboard users are not stranded.
  var navToggle = document.querySelector(".nav-toggle");
  if (navToggle) {
    var sidebar = navToggle.closest(".sidebar");
    var setMenu = function (open) {
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
      sidebar.classList.toggle("is-open", open);
    };
    navToggle.addEventListener("click", function () {
      setMenu(navToggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !sidebar.classList.contains("is-open")) return;
      setMenu(false);
      navToggle.focus();
    });
    document.addEventListener("click", function (event) {
      if (sidebar.classList.contains("is-open") && !sidebar.contains(event.target)) setMenu(false);
    });
  }

  // Wide tables scroll inside a .table-wrap box. A table a template left unwrapped gets
  // one; a box that does overflow becomes a named, focusable region (so it can be scrolled
  // by keyboard) with a visible hint, and loses both when it fits again.
  function tableName(wrap) {
    var caption = wrap.querySelector("caption");
    var section = wrap.closest("section, .card");
    var heading = section && section.querySelector("h2, h3");
    var text = (caption || heading || {}).textContent;
    return (text || "Table").trim().replace(/\s+/g, " ");
  }
  function fitTables(root) {
    (root || document).querySelectorAll("main table").forEach(function (table) {
      if (table.parentElement.classList.contains("table-wrap")) return;
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
    document.querySelectorAll("main .table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      var hint = wrap.nextElementSibling;
      var hasHint = hint && hint.classList.contains("table-wrap__hint");
      wrap.classList.toggle("is-scrollable", scrolls);
      if (scrolls) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", tableName(wrap) + " (scrolls sideways)");
        if (!hasHint) {
          hint = document.createElement("p");
          hint.className = "table-wrap__hint";
          hint.setAttribute("aria-hidden", "true");
          hint.textContent = "Scroll sideways for more columns \u2192";
          wrap.parentNode.insertBefore(hint, wrap.nextSibling);
        }
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
        if (hasHint) hint.remove();
      }
    });
  }
  fitTables();
  document.addEventListener("htmx:afterSettle", function () { fitTables(); });
  var resizeTimer;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(fitTables, 100);
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
