"""axe-core on every page a browser test lands on.

tests/e2e/conftest.py installs an `Auditor` around each browser test. It checks a document
the first time the test acts on its page after landing there — a click, a key, a fill, a
`goto` — and, when a page or its context closes or the test ends, the document each page
shows then. A test that follows a link, submits a form and is redirected has every
document it reached checked, whether or not it thought of accessibility.

Why not on Playwright's "load" event: a handler cannot hold the test while axe runs (it
would race the test's next click), and a navigation held by a route blocks script in the
page, axe included. Checking before the next action leaves no such race: the document
is loaded and stays put while axe runs.

A document is checked once per look: a page with the same URL, viewport width and element
structure (tags and classes, so a form re-shown with its errors is a new look) is not
checked again in the same run (by the same xdist worker): what axe found there was
reported by the test that saw it first.
"""

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ElementHandle, Frame, Keyboard, Locator, Mouse, Page

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
SERIOUS = ("serious", "critical")
LOOKS_CHECKED: set = set()  # (URL, width, look hash) of every document checked in this process
# Widgets drawn by third-party code the project serves unchanged, left out of the check
# (the rest of their page is checked): Swagger UI on /api/docs/ (drf-spectacular-sidecar)
# nests buttons and colours its method badges below 4.5:1 — upstream's to fix, not ours.
THIRD_PARTY = ["#swagger-ui"]

# Evaluated through the DevTools protocol, which the app's Content-Security-Policy does not
# govern: unlike a <script> tag, axe needs no `bypass_csp` context.
LOOK = """() => {
    if (window.__pmo5pAxeChecked) return {checked: true};
    if (document.contentType !== 'text/html' || !document.body) return null;
    let hash = 2166136261;
    for (const el of document.body.querySelectorAll('*')) {
        const part = el.tagName + '.' + el.getAttribute('class') + '|';
        for (let i = 0; i < part.length; i++) hash = Math.imul(hash ^ part.charCodeAt(i), 16777619);
    }
    window.__pmo5pAxeChecked = true;
    return {checked: false, look: hash >>> 0, width: window.innerWidth};
}"""
RUN = """async ([impacts, thirdParty]) => {
    const context = {include: [document], exclude: thirdParty.map(selector => [selector])};
    const result = await axe.run(context, {resultTypes: ['violations']});
    return result.violations.filter(v => impacts.includes(v.impact)).map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.map(n => n.target.join(' ')),
    }));
}"""

# The actions that can take a page to another document (or change the one it shows).
# The input actions every element-bearing object has; each class adds its own.
_INPUT = [
    *("click", "dblclick", "tap", "press", "fill", "check", "uncheck", "set_checked"),
    *("select_option", "set_input_files", "dispatch_event"),
]
ACTIONS = {
    Page: ["goto", "reload", "go_back", "go_forward", *_INPUT, "type", "drag_and_drop"],
    Frame: ["goto", *_INPUT, "type"],
    Locator: [*_INPUT, "press_sequentially", "clear", "drag_to"],
    ElementHandle: [*_INPUT, "type"],
    Keyboard: ["press", "type", "insert_text", "down"],
    Mouse: ["click", "dblclick", "down"],
}


def _page_of(target):
    if isinstance(target, Page):
        return target
    if isinstance(target, Frame | Locator):
        return target.page
    if isinstance(target, ElementHandle):
        frame = target.owner_frame()
        return frame.page if frame else None
    return getattr(target, "_pmo5p_page", None)  # Keyboard and Mouse: set when the page hands them out


def serious_violations(page) -> list[str]:
    """axe's serious and critical violations on the page's current document, one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['targets'][:8]}"
        for v in page.evaluate(RUN, [list(SERIOUS), THIRD_PARTY])
    ]


@dataclass
class Auditor:
    findings: dict[str, list[str]] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)  # "url at width", in order: what axe ran on
    _contexts: list = field(default_factory=list)

    def install(self, monkeypatch) -> None:
        """Watch every context and page the test makes, and check before every action."""
        auditor = self
        new_context = Browser.new_context

        def watched_context(browser, *args, **kwargs):
            context = new_context(browser, *args, **kwargs)
            auditor.watch(context)
            return context

        def watched_page(browser, *args, **kwargs):
            # Browser.new_page makes a context of its own, which closing the page closes.
            context = watched_context(browser, *args, **kwargs)
            page = context.new_page()
            page.close = lambda *args, **kwargs: context.close()
            return page

        monkeypatch.setattr(Browser, "new_context", watched_context)
        monkeypatch.setattr(Browser, "new_page", watched_page)
        for cls, names in ACTIONS.items():
            for name in names:
                monkeypatch.setattr(cls, name, self._checked_first(getattr(cls, name)))
        for name in ("keyboard", "mouse"):
            monkeypatch.setattr(Page, name, property(self._tagged(getattr(Page, name).fget)))

        close = Page.close

        def check_then_close(page, *args, **kwargs):
            auditor.check(page)
            close(page, *args, **kwargs)

        monkeypatch.setattr(Page, "close", check_then_close)

    def _checked_first(self, action):
        auditor = self

        def checked_first(target, *args, **kwargs):
            __tracebackhide__ = True
            page = _page_of(target)
            if page is not None:
                auditor.check(page)
            return action(target, *args, **kwargs)

        return checked_first

    @staticmethod
    def _tagged(getter):
        def tagged(page):
            device = getter(page)
            device._pmo5p_page = page
            return device

        return tagged

    def watch(self, context) -> None:
        self._contexts.append(context)
        close = context.close

        def check_then_close(*args, **kwargs):
            if context in self._contexts:
                self._contexts.remove(context)
                self.check_pages(context)
            close(*args, **kwargs)

        context.close = check_then_close

    def check_pages(self, context) -> None:
        for page in context.pages:
            self.check(page)

    def check_open_contexts(self) -> None:
        for context in self._contexts:
            self.check_pages(context)

    def check(self, page) -> list[str]:
        """Runs axe on the page's document unless it or its look was checked; returns what it found."""
        if page.is_closed() or not page.url.startswith(("http://", "https://")):
            return []
        try:
            page.wait_for_load_state("load")  # styles applied: colour contrast depends on them
            state = page.evaluate(LOOK)
            if state is None or state["checked"]:  # checked already, or a PDF or CSV shown by the browser
                return []
            where = f"{page.url} at {state['width']}px"
            key = (page.url, state["width"], state["look"])
            if key in LOOKS_CHECKED:
                return []
            LOOKS_CHECKED.add(key)
            self.checked.append(where)
            found = serious_violations(page)
        except Exception as error:
            if page.is_closed() or "context was destroyed" in str(error):
                return []  # the page left the document by itself meanwhile: the next action checks the new one
            raise
        known = self.findings.setdefault(where, [])
        known.extend(line for line in found if line not in known)
        if not known:
            del self.findings[where]
        return found

    def report(self) -> str:
        lines = ["axe-core found serious or critical accessibility violations:"]
        for where, found in self.findings.items():
            lines.append(f"  {where}")
            lines.extend(f"    - {line}" for line in found)
        return "\n".join(lines)
