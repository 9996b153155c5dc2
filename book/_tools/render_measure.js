// Injected by book/_tools/render_check.py into a temporary copy of a page: after the page's own
// JavaScript ran (MathJax typeset, widgets drawn), measure what overflows or is blank and write
// the findings as JSON into a pre element (id __render_check__) for `chromium --dump-dom` to read back.
(function () {
  "use strict";
  var W = window.innerWidth;
  function describe(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    var cls = (el.getAttribute("class") || "").trim().split(/\s+/).slice(0, 2).join(".");
    if (cls) s += "." + cls;
    // the nearest section heading: where on the page a reader finds it
    var sec = el.closest("section");
    var h = sec && sec.querySelector("h1, h2, h3");
    var where = h ? h.textContent.replace(/[#\u00b6]/g, "").trim().slice(0, 60) : "";
    return s + (where ? " in '" + where + "'" : "");
  }
  function snippet(el, n) {
    return (el.textContent || "").replace(/\s+/g, " ").trim().slice(0, n || 70);
  }
  // true if an ancestor below `stop` scrolls sideways by design (a table wrapper)
  function inScroller(el, stop) {
    for (var a = el.parentElement; a && a !== stop; a = a.parentElement) {
      var ox = getComputedStyle(a).overflowX;
      if (ox === "auto" || ox === "scroll") return true;
    }
    return false;
  }
  function measure() {
    var out = {width: W, problems: [], counts: {}};
    var P = out.problems;
    var article = document.querySelector("article.bd-article") || document.querySelector("main")
      || document.body;
    var ar = article.getBoundingClientRect();
    // 1. display math must fit its block: no formula cut off or scrolled sideways
    var maths = article.querySelectorAll("mjx-container[display='true'], mjx-container[display]");
    out.counts.math = maths.length;
    maths.forEach(function (m) {
      var inner = m.querySelector("mjx-math") || m;
      var r = inner.getBoundingClientRect(), box = m.getBoundingClientRect();
      var over = Math.max(m.scrollWidth - m.clientWidth, r.right - box.right, box.left - r.left,
                          r.right - ar.right);
      if (over > 1) P.push({kind: "math", over: Math.round(over),
        msg: "display math " + Math.round(over) + " px wider than its block (" +
             Math.round(r.width) + " px in " + Math.round(box.width) + " px) " + describe(m) +
             ": " + snippet(m, 50)});
    });
    // 2. code cells, printed output and literal blocks: no line cut or scrolled sideways;
    //    at desktop width, no line wrapped either (lines are kept to ~90 characters)
    var pres = article.querySelectorAll("pre");
    out.counts.pre = pres.length;
    pres.forEach(function (p) {
      if (p.closest("table")) return;
      var text = p.textContent.replace(/\n$/, "");
      var lines = text.split("\n");
      var longest = lines.reduce(function (a, l) { return Math.max(a, l.length); }, 0);
      var kind = p.closest(".cell_output, .output") ? "output" : "code";
      var over = p.scrollWidth - p.clientWidth;
      if (over > 1) {
        P.push({kind: kind, over: over, msg: kind + " block " + over + " px too wide (longest line " +
          longest + " chars) " + describe(p) + ": " + snippet(p)});
        return;
      }
      var cs = getComputedStyle(p);
      var lh = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2;
      var h = p.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
      var visual = Math.round(h / lh);
      if (W >= 1000 && cs.whiteSpace !== "pre" && visual > lines.length) {
        var long = lines.filter(function (l) { return l.length > 90; }).length;
        P.push({kind: kind + "-wrap", over: 0, msg: kind + " block wraps at " + W +
          " px (longest line " + longest + " chars, " + long + " line(s) over 90) " + describe(p) +
          ": " + snippet(p)});
      }
    });
    // 3. tables: wider than the column only inside a wrapper that scrolls by design
    article.querySelectorAll("table").forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (r.right > ar.right + 1 && !inScroller(t, article))
        P.push({kind: "table", over: Math.round(r.right - ar.right), msg: "table runs " +
          Math.round(r.right - ar.right) + " px past the column and nothing scrolls it " +
          describe(t)});
    });
    // 4. figures: loaded, drawn, inside the column
    var imgs = article.querySelectorAll("img");
    out.counts.img = imgs.length;
    imgs.forEach(function (im) {
      var r = im.getBoundingClientRect();
      if (!im.complete || im.naturalWidth === 0)
        P.push({kind: "img", msg: "figure not loaded " + describe(im) + " src=" +
          (im.getAttribute("src") || "").slice(0, 60)});
      else if (r.width < 2 || r.height < 2)
        P.push({kind: "img", msg: "figure drawn " + Math.round(r.width) + "x" +
          Math.round(r.height) + " px " + describe(im)});
      else if (r.right > ar.right + 1 && !inScroller(im, article))
        P.push({kind: "img", msg: "figure runs " + Math.round(r.right - ar.right) +
          " px past the column " + describe(im)});
    });
    // 5. widgets (ipywidgets views, matplotlib players): not blank, inside the column, and
    //    player buttons drawn without relying on an icon font or a system font's symbols
    var widgets = article.querySelectorAll(".jupyter-widgets.widget-container, " +
      ".cell_output > .output > .jupyter-widgets, .widget-vbox, .animation");
    out.counts.widget = widgets.length;
    widgets.forEach(function (w) {
      var r = w.getBoundingClientRect();
      if (r.width < 20 || r.height < 20)
        P.push({kind: "widget", msg: "widget blank (" + Math.round(r.width) + "x" +
          Math.round(r.height) + " px) " + describe(w)});
      else if (r.right > ar.right + 1 && !inScroller(w, article))
        P.push({kind: "widget", msg: "widget runs " + Math.round(r.right - ar.right) +
          " px past the column " + describe(w)});
    });
    var buttons = article.querySelectorAll(".animation button, .anim-buttons button");
    out.counts.button = buttons.length;
    buttons.forEach(function (b) {
      var svg = b.querySelector("svg");
      if (svg) {
        var sr = svg.getBoundingClientRect();
        if (sr.width < 4 || sr.height < 4) P.push({kind: "glyph", msg: "player button '" +
          (b.title || "") + "' has an empty icon " + describe(b)});
        return;
      }
      var i = b.querySelector("i");
      if (i) {
        var before = getComputedStyle(i, "::before").content;
        var fam = getComputedStyle(i).fontFamily;
        if (!before || before === "none" || before === "normal" ||
            !document.fonts.check("12px " + fam))
          P.push({kind: "glyph", msg: "player button '" + (b.title || "") +
            "' draws an icon-font glyph that is not loaded (" + i.className + ") " + describe(b)});
        return;
      }
      var t = b.textContent.trim();
      if (!t) P.push({kind: "glyph", msg: "player button '" + (b.title || "") + "' is empty"});
      else if (/[^\u0020-\u00ff\u2212]/.test(t))
        P.push({kind: "glyph", msg: "player button '" + (b.title || "") + "' shows '" + t +
          "', a symbol only some system fonts have (empty box elsewhere) " + describe(b)});
    });
    // 6. the page as a whole must not scroll sideways
    var dw = document.documentElement.scrollWidth;
    if (dw > W + 1) {
      // the innermost element that sticks out farthest: what makes the page too wide
      var worst = null, worstRight = W;
      document.body.querySelectorAll("*").forEach(function (el) {
        var r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > worstRight + 0.5) { worst = el; worstRight = r.right; }
      });
      P.push({kind: "page", over: dw - W, msg: "page is " + dw + " px wide in a " + W +
        " px window (scrolls sideways)" + (worst ? "; widest: " + describe(worst) + ": " +
        snippet(worst, 50) : "")});
    }
    out.height = Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);
    var pre = document.createElement("pre");
    pre.id = "__render_check__";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
    // in render_check's phone frame (an iframe: a headless window is at least 500 px wide)
    if (window.parent !== window) window.parent.postMessage({renderCheck: pre.textContent}, "*");
  }
  function run() {
    var ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
    ready.then(function () { setTimeout(measure, 500); }, function () { setTimeout(measure, 500); });
  }
  if (document.readyState === "complete") setTimeout(run, 1500);
  else window.addEventListener("load", function () { setTimeout(run, 1500); });
})();
