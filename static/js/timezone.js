// Suggests the time zone the browser reports next to a time zone field. It only
// offers a button that fills the field; nothing is saved until the form is sent.
(function () {
  "use strict";
  function suggest(box) {
    var input = document.getElementById(box.getAttribute("data-zone-for"));
    var detected;
    try {
      detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (!input || !detected || input.value === detected) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = box.getAttribute("data-label").replace("{zone}", detected);
    button.addEventListener("click", function () {
      input.value = detected;
      input.focus();
      box.hidden = true;
    });
    box.appendChild(button);
    box.hidden = false;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-zone-for]");
    for (var i = 0; i < boxes.length; i++) {
      suggest(boxes[i]);
    }
  });
})();
