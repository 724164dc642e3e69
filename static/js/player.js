// Enhancement only: every page works without this file.
// Timestamps (data-seek) play the episode's audio from that moment, the
// transcript line being played is highlighted, and audio that cannot be loaded
// or played is reported next to the player with a link to download it.
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
      playing.catch(function (error) {
        // AbortError: another seek came first; NotAllowedError: the browser
        // wants a click on the player itself. Neither means the file is bad.
        if (!error || (error.name !== "AbortError" && error.name !== "NotAllowedError")) {
          problem();
        }
      });
    }
    return true;
  }

  // Says that the audio cannot be played, with a link to download it, in the
  // status element the page keeps next to the player (the text is the page's own,
  // in the reader's language).
  function problem() {
    var status = document.querySelector("[data-player-status]");
    var message = document.querySelector("[data-player-problem]");
    if (!status || !message || status.hasChildNodes()) {
      return;
    }
    for (var i = 0; i < message.childNodes.length; i += 1) {
      status.appendChild(message.childNodes[i].cloneNode(true));
    }
    status.classList.add("notice");
  }

  function watch(audio) {
    audio.addEventListener("error", function () {
      problem();
    });
    audio.addEventListener("playing", function () {
      var status = document.querySelector("[data-player-status]");
      if (status) {
        status.textContent = "";
        status.classList.remove("notice");
      }
    });
    // An error that came before this script ran (a preloading player).
    if (audio.error) {
      problem();
    }
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
    var audio = player();
    if (audio) {
      watch(audio);
    }
    highlight();
    var match = /^#t=(\d+)$/.exec(window.location.hash);
    audio = document.querySelector("audio[data-transcript-player]");
    if (match && audio) {
      audio.preload = "metadata";
      audio.addEventListener("loadedmetadata", function () {
        audio.currentTime = parseInt(match[1], 10);
      }, { once: true });
    }
  });
})();
