"""What a crawl checks on every rendered page: it fits the screen, and its Chinese has no English left in it."""

from __future__ import annotations

import re

# In the browser: the page must not scroll sideways, no control in <main> may lie outside the
# viewport, and no text may wrap in a box narrower than two of its characters (the squeezed table
# cell that shows a name one character per line). Boxes of 2 px or less are screen-reader-only text.
# And on a phone the closed top bar is at most NAV_MAX_PX tall: one line of links and buttons.
NAV_MAX_PX = 80   # one line: the brand, the menu button, the language links
LAYOUT_FAULTS_JS = """async (resized) => {
  const NAV_MAX_PX = __NAV_MAX_PX__;
  // after a resize, let responsive parts (charts) redraw before measuring
  for (let frame = 0; resized && frame < 2; frame++) await new Promise(done => requestAnimationFrame(done));
  const width = document.documentElement.clientWidth, faults = [];
  const scroll = document.scrollingElement.scrollWidth;
  if (scroll > width) faults.push(`the page scrolls sideways: ${scroll} px wide in ${width} px`);
  // On a phone the top bar is one line (its links folded behind the menu button), not four.
  const bar = document.querySelector('.topbar'), toggle = document.querySelector('#menu-toggle');
  const barHeight = bar ? Math.round(bar.getBoundingClientRect().height) : 0;
  if (width <= 480 && !(toggle && toggle.checked) && barHeight > NAV_MAX_PX)
    faults.push(`the top bar is ${barHeight} px tall on a phone (at most ${NAV_MAX_PX})`);
  const shown = el => el.getClientRects().length > 0;
  const name = el => `<${el.tagName.toLowerCase()}> "${(el.innerText || el.value || el.getAttribute('aria-label')
    || '').trim().replace(/\\s+/g, ' ').slice(0, 40)}"`;
  for (const el of document.querySelectorAll('main a, main button, main input, main select, main textarea')) {
    if (!shown(el) || el.type === 'hidden') continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 2 && box.height <= 2) continue;
    if (box.left < -1 || box.right > width + 1)
      faults.push(`off screen at x ${Math.round(box.left)} to ${Math.round(box.right)}: ${name(el)}`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const lines = node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].map(line => Math.round(line.top))).size;
  };
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.replace(/\\s+/g, '');
    const parent = walker.currentNode.parentElement;
    if ([...text].length < 2 || !parent || !shown(parent) || lines(walker.currentNode) < 2) continue;
    let box = parent;
    while (box.parentElement && ['inline', 'contents'].includes(getComputedStyle(box).display)) box = box.parentElement;
    const style = getComputedStyle(box), fontSize = parseFloat(getComputedStyle(parent).fontSize);
    const inner = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (box.clientWidth > 2 && inner < 2 * fontSize)
      faults.push(`${Math.round(inner)} px for two characters of ${Math.round(fontSize)} px: ${name(box)}`);
  }
  return faults;
}""".replace("__NAV_MAX_PX__", str(NAV_MAX_PX))

# Everything a person may read: text (also in closed <details> and not-yet-shown messages) and the
# placeholder, title and alt texts. Code, commands and what is marked translate="no" (usernames,
# a laptop's typed name) are the user's own words, not ours.
TEXTS_JS = """() => {
  const skip = 'script, style, template, noscript, textarea, code, pre, kbd, samp, [translate="no"]';
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.textContent.trim() && !node.parentElement.closest(skip)) texts.push(node.textContent.trim());
  }
  for (const el of document.body.querySelectorAll('[placeholder], [title], [alt], input[type=submit]')) {
    if (el.closest(skip)) continue;
    for (const attribute of ['placeholder', 'title', 'alt']) if (el.getAttribute(attribute)) texts.push(el.getAttribute(attribute));
    if (el.type === 'submit' && el.value) texts.push(el.value);
  }
  return texts;
}"""

# Latin words a Chinese page may show: the names of the product, of a platform (js365.org.cn) and
# of a language, a file type people know by its English name (also as a file name's ending), units.
# Acronyms and codes in capitals (XLSX, CSV, QR, ID, PDF, USB) and single letters pass unlisted.
ALLOWED_WORDS = {"fieldsync", "js365", "English", "Excel", "xlsx", "csv", "km", "kg", "cm", "Wi", "Fi"}
LINK = re.compile(r"\S+://\S+|\S+@\S+\.\w+")
WORD = re.compile(r"[A-Za-z0-9_]+")
DIGEST = re.compile(r"[0-9a-f]{16,}")  # a hash shown raw: one name for it, whatever its value


def layout_faults(page, *, resized: bool = False) -> list[str]:
    return page.evaluate(LAYOUT_FAULTS_JS, resized)


def english_words(page) -> set[str]:
    """Words on the page that are English or developer identifiers (lower-case letters, two or more)."""
    words = set()
    for text in page.evaluate(TEXTS_JS):
        for word in WORD.findall(LINK.sub(" ", text)):
            word = "<hex digest>" if DIGEST.fullmatch(word) else word
            if len(word) >= 2 and any(c.islower() for c in word) and word not in ALLOWED_WORDS:
                words.add(word)
    return words


def html_pages(page, base_url: str, paths: list[str], is_page: dict[str, bool]):
    """Open each path that answers with a web page, not a download; yields the path and the answer's
    status. `is_page` remembers the answer's kind across roles, so each download is fetched once."""
    for path in paths:
        if path not in is_page:
            answer = page.context.request.get(base_url + path)
            is_page[path] = answer.headers.get("content-type", "").startswith("text/html")
        if is_page[path]:
            yield path, page.goto(base_url + path).status
