"""The browser guards' machinery: crawl a role's pages and report what a person would hit.

A crawl starts from the primary navigation, the "Register an app" button and one
representative app page. Every same-origin link found on a visited page has its status
checked with an HTTP request (cheap, and it catches 404s and 500s behind any link); a page
is *visited* in the browser (both widths, every check) once per URL route, so the app page
stands for all app pages and the crawl stays bounded however large the fleet is.

Findings are plain strings naming the role, the width, the page and what is wrong, so a
failure reads as a to-do list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1366, 390)
HEIGHT = 900
# axe impacts that fail the guard; "moderate" and "minor" are left to review.
FAILING_IMPACTS = ("serious", "critical")
# Routes whose pages are third-party UI, not ours: their links are status-checked but the
# browser checks do not apply (Django's admin has its own accessibility record).
NOT_OURS = ("admin:",)
# Routes never followed: signing out ends the crawl, the rest change state on GET-less
# forms only, and downloads are files, not pages.
SKIPPED_ROUTES = {"logout", "login"}

# Swagger UI pages (/api/docs/ and each contract's docs) get no exceptions: the known
# serious findings were fixed by configuration and CSS, not excused. They were
# color-contrast (white on light method colours: static/css/swagger-ui.css) and
# nested-interactive (a deep link inside each operation's button: deepLinking off). What
# axe still reports there is moderate (heading-order, region, Swagger UI's own <main>).

# Listens before any page script runs, so an htmx error during the first swap (lazy
# panels load on page load) is caught as well as later ones.
HTMX_ERRORS_SCRIPT = """
(() => {
  window.__guardErrors = [];
  const events = [
    "htmx:responseError", "htmx:sendError", "htmx:swapError", "htmx:targetError",
    "htmx:syntax:error", "htmx:onLoadError", "htmx:evalDisallowedError",
    "htmx:historyCacheError", "htmx:timeout", "htmx:invalidPath"
  ];
  for (const name of events) {
    document.addEventListener(name, (event) => {
      const detail = event.detail || {};
      const xhr = detail.xhr;
      const config = detail.requestConfig || {};
      const path = config.path || (detail.pathInfo && detail.pathInfo.requestPath) || "";
      window.__guardErrors.push(name + (xhr ? " " + xhr.status : "") + (path ? " " + path : ""));
    }, true);
  }
})();
"""

# The elements that stick out past the viewport's right edge, deepest first, so an
# overflow finding says where to look.
OVERFLOW_SCRIPT = """
() => {
  const limit = window.innerWidth;
  // Content inside its own scrolling box (a table wrapper, the phone nav) is clipped
  // there and cannot widen the page; only what escapes every such box counts.
  // An absolutely positioned element is clipped only by boxes at or above its containing
  // block, so a visually hidden label inside a scrolling table can still widen the page.
  const clipped = (el) => {
    const position = getComputedStyle(el).position;
    if (position === "fixed") return false;
    const start = position === "absolute" ? el.offsetParent : el.parentElement;
    for (let up = start; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll("*")].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > limit + 1 && !clipped(el);
  });
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id :
    el.classList.length ? "." + [...el.classList].join(".") : "");
  const out = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)))
    .slice(0, 3).map((el) => (el.parentElement ? name(el.parentElement) + " > " : "") +
      name(el) + " (right edge " + Math.round(el.getBoundingClientRect().right) + ")");
  return {scroll: document.documentElement.scrollWidth, inner: limit, culprits: out};
}
"""

AXE_SCRIPT = """
async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}
"""


@dataclass
class Crawl:
    """One role's crawl: what was visited, what was checked, and what was found."""

    role: str
    origin: str
    visited_routes: set[str] = field(default_factory=set)
    visited: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    def report(self) -> str:
        return (
            f"{len(self.findings)} finding(s) for {self.role} "
            f"({len(self.visited)} pages visited, {len(self.checked)} links checked):\n  - "
            + "\n  - ".join(dict.fromkeys(self.findings))
        )


def route_of(path: str) -> str | None:
    """The URL route's name (namespaced), or None for a path Django does not serve."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def same_origin_links(page, origin: str) -> list[str]:
    """Absolute same-origin link targets on the page, without fragments or downloads."""
    hrefs = page.eval_on_selector_all(
        "a[href]:not([download])", "(links) => links.map((a) => a.getAttribute('href'))"
    )
    found = []
    for href in hrefs:
        if href.startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        url, _ = urldefrag(urljoin(page.url, href))
        if urlsplit(url)._replace(path="", query="").geturl() != origin:
            continue
        found.append(url)
    return list(dict.fromkeys(found))


def check_status(crawl: Crawl, page, urls: Iterable[str], found_on: str) -> None:
    """A GET per new link (redirects followed, as the browser would)."""
    for url in urls:
        if url in crawl.checked:
            continue
        path = urlsplit(url).path
        if route_of(path) in SKIPPED_ROUTES:
            continue
        response = page.request.get(url)
        crawl.checked[url] = response.status
        if response.status >= 400:
            crawl.findings.append(
                f"[{crawl.role}] link {_short(url, crawl.origin)} on {found_on} "
                f"answers {response.status}"
            )


def wants_visit(crawl: Crawl, url: str) -> bool:
    """The first URL of each of our HTML routes is visited; the rest only checked."""
    path = urlsplit(url).path
    route = route_of(path)
    if route is None or route in SKIPPED_ROUTES or route.startswith(NOT_OURS):
        return False
    if route.startswith("api:") or route in {"schema", "healthz", "metrics"}:
        return False
    return route not in crawl.visited_routes


def visit(crawl: Crawl, page, url: str) -> list[str]:
    """Load the page at each width, run every check, return the links it holds."""
    route = route_of(urlsplit(url).path) or url
    crawl.visited_routes.add(route)
    crawl.visited.append(url)
    links: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        if not _visit_at(crawl, page, url, width):
            break
        links = links or same_origin_links(page, crawl.origin)
    return links


def _visit_at(crawl: Crawl, page, url: str, width: int) -> bool:
    """One load at one width; False when the page itself failed to load."""
    console: list[str] = []
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            # A failed resource's message does not say which: its location does.
            source = (message.location or {}).get("url") or ""
            console.append(f"{message.text} [{_short(source, crawl.origin)}]")

    def on_error(exc) -> None:
        errors.append(str(exc))

    page.on("console", on_console)
    page.on("pageerror", on_error)
    try:
        response = page.goto(url, wait_until="networkidle")
        where = f"[{crawl.role}] {_short(page.url, crawl.origin)} at {width} px"
        content_type = response.headers.get("content-type", "") if response else ""
        if response is None or response.status >= 400 or "html" not in content_type:
            status = response.status if response else "no response"
            crawl.findings.append(f"{where}: the page answers {status} ({content_type})")
            return False
        if page.locator("#swagger-ui").count():
            # Swagger UI renders after fetching its document: check what people see.
            page.locator("#swagger-ui .opblock-tag, #swagger-ui .info").first.wait_for()
        _check_page(crawl, page, where)
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
    crawl.findings.extend(f"{where}: console error: {text}" for text in console)
    crawl.findings.extend(f"{where}: uncaught page error: {text}" for text in errors)
    return True


def _check_page(crawl: Crawl, page, where: str) -> None:
    overflow = page.evaluate(OVERFLOW_SCRIPT)
    if overflow["scroll"] > overflow["inner"]:
        crawl.findings.append(
            f"{where}: scrolls sideways by {overflow['scroll'] - overflow['inner']} px "
            f"(widest: {', '.join(overflow['culprits']) or 'unknown'})"
        )
    for text in page.evaluate("window.__guardErrors || []"):
        crawl.findings.append(f"{where}: htmx error event {text}")
    for violation in axe_violations(page):
        crawl.findings.append(
            f"{where}: axe {violation['impact']} {violation['id']} ({violation['help']}) "
            f"at {', '.join(violation['targets'][:3])}"
        )


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(AXE_SCRIPT) if v["impact"] in FAILING_IMPACTS]


def _short(url: str, origin: str) -> str:
    return url[len(origin) :] if url.startswith(origin) else url
