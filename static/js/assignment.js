// On the assignment form, shows only the chosen episode's study questions to tick.
// Without this script every episode's list is there, folded, and only the chosen
// episode's ticks count.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("episode_id");
    var lists = document.querySelectorAll("details.required-questions[data-episode]");
    if (!select || !lists.length) {
      return;
    }
    function show() {
      for (var i = 0; i < lists.length; i++) {
        var chosen = lists[i].getAttribute("data-episode") === select.value;
        lists[i].hidden = !chosen;
        if (chosen) {
          lists[i].open = true;
        }
      }
    }
    select.addEventListener("change", show);
    show();
  });
})();
