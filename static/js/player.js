// Enhancement only: every page works without this file.
// Timestamps (data-seek) play the episode's audio from that moment, and the
// transcript line being played is highlighted.
(function () {
  "use strict";

  function player() {
    return document.querySelector("audio[data-transcript-player], audio.player");
  }

  function seek(seconds) {
    var audio = player();
    if (!audio || isNaN(seconds)) {
      return false;
    }
    audio.currentTime = seconds;
    var playing = audio.play();
    if (playing && playing.catch) {
      playing.catch(function () {});
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-seek]") : null;
    if (!link || !document.querySelector("audio[data-transcript-player]")) {
      return;
    }
    if (seek(parseFloat(link.getAttribute("data-seek")))) {
      event.preventDefault();
      if (history.replaceState) {
        history.replaceState(null, "", "#t=" + Math.floor(parseFloat(link.getAttribute("data-seek"))));
      }
    }
  });

  function highlight() {
    var audio = document.querySelector("audio[data-transcript-player]");
    if (!audio) {
      return;
    }
    var segments = Array.prototype.slice.call(document.querySelectorAll(".segment[data-start]"));
    var current = null;
    audio.addEventListener("timeupdate", function () {
      var time = audio.currentTime;
      var found = null;
      for (var i = 0; i < segments.length; i += 1) {
        var start = parseFloat(segments[i].getAttribute("data-start"));
        var end = parseFloat(segments[i].getAttribute("data-end"));
        if (time >= start && time < end) {
          found = segments[i];
          break;
        }
      }
      if (found !== current) {
        if (current) {
          current.classList.remove("is-playing");
          current.removeAttribute("aria-current");
        }
        if (found) {
          found.classList.add("is-playing");
          found.setAttribute("aria-current", "true");
        }
        current = found;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    highlight();
    var match = /^#t=(\d+)$/.exec(window.location.hash);
    var audio = document.querySelector("audio[data-transcript-player]");
    if (match && audio) {
      audio.preload = "metadata";
      audio.addEventListener("loadedmetadata", function () {
        audio.currentTime = parseInt(match[1], 10);
      }, { once: true });
    }
  });
})();
