// amnet-edu book: draw the buttons of matplotlib's animation player (Animation.to_jshtml) with
// inline SVG icons. The player's own icons come from Font Awesome 4 on a CDN, which an offline
// book cannot load (empty boxes), and Unicode media symbols (U+23EE ...) are missing from many
// system fonts. Each button is recognised by its title, which matplotlib sets ("Play", ...).
// Loaded on every page by html_js_files in _config.yml; checked by _tools/render_check.py.
(function () {
  "use strict";
  var T = function (pts) { return '<polygon points="' + pts + '"/>'; };
  var R = function (x, y, w, h) {
    return '<rect x="' + x + '" y="' + y + '" width="' + w + '" height="' + h + '"/>';
  };
  var ICONS = {
    "Decrease speed": R(2, 7, 12, 2),
    "Increase speed": R(2, 7, 12, 2) + R(7, 2, 2, 12),
    "First frame": R(1, 2, 2, 12) + T("9,2 3,8 9,14") + T("15,2 9,8 15,14"),
    "Previous frame": R(2, 2, 2, 12) + T("14,2 5,8 14,14"),
    "Play backwards": T("13,2 3,8 13,14"),
    "Pause": R(3, 2, 3.5, 12) + R(9.5, 2, 3.5, 12),
    "Play": T("3,2 13,8 3,14"),
    "Next frame": T("2,2 11,8 2,14") + R(12, 2, 2, 12),
    "Last frame": T("1,2 7,8 1,14") + T("7,2 13,8 7,14") + R(13, 2, 2, 12)
  };
  function draw() {
    document.querySelectorAll(".anim-buttons button").forEach(function (b) {
      var name = b.getAttribute("title") || b.getAttribute("aria-label") || "";
      if (!(name in ICONS) || b.querySelector("svg")) return;
      b.innerHTML = '<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">' +
        ICONS[name] + "</svg>";
      if (!b.getAttribute("aria-label")) b.setAttribute("aria-label", name);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
