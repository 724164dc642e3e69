// Enhancement only: every page works without this file.
// The header menu closes with Escape or a click elsewhere; long text that turns out
// to fit needs no "Show more"; a copy button for codes (data-copy-label on the code).
(function () {
  "use strict";

  var WIDE = "(min-width: 48.01rem)";

  function menus() {
    return Array.prototype.slice.call(document.querySelectorAll("details.site-menu"));
  }

  function setUpMenu() {
    var supported = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
    if (!supported && window.matchMedia) {
      // Without ::details-content a closed menu hides its links, so open it on wide screens.
      var query = window.matchMedia(WIDE);
      var follow = function () {
        menus().forEach(function (menu) { menu.open = query.matches; });
      };
      follow();
      if (query.addEventListener) { query.addEventListener("change", follow); }
    }
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      menus().forEach(function (menu) {
        if (menu.open && menu.contains(document.activeElement) && !window.matchMedia(WIDE).matches) {
          menu.open = false;
          menu.querySelector("summary").focus();
        }
      });
    });
    document.addEventListener("click", function (event) {
      if (window.matchMedia(WIDE).matches) { return; }
      menus().forEach(function (menu) {
        if (menu.open && !menu.contains(event.target)) { menu.open = false; }
      });
    });
  }

  function releaseShortText() {
    // The server collapses text by its length; what is shorter than the box on this
    // screen needs no toggle.
    document.querySelectorAll(".collapsible").forEach(function (box) {
      var body = box.querySelector(".collapsible-body");
      if (body && body.scrollHeight <= body.clientHeight + 4) {
        box.classList.add("fits");
      }
    });
  }

  function addCopyButtons() {
    if (!navigator.clipboard) { return; }
    document.querySelectorAll("[data-copy-label]").forEach(function (code) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary copy-button";
      button.textContent = code.getAttribute("data-copy-label");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent.trim()).then(function () {
          button.textContent = code.getAttribute("data-copied-label");
        }, function () {});
      });
      code.insertAdjacentElement("afterend", button);
    });
  }

  function start() {
    setUpMenu();
    releaseShortText();
    addCopyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
