/* pathgrad's interactive page: live values, paths lit by a click, backprop step by step.
 *
 * The same script serves the standalone page (`pathgrad page`, `explain --interactive`) and
 * the Jupyter widget (`pathgrad.widget`). It knows nothing about any particular network:
 * `mount(root, data, model, options)` gets the page's data (JSON written by
 * pathgrad/render/interactive.py) and `model(v, p, pg)`, a function generated from sympy by
 * pathgrad/render/jscode.py that fills v (every name's value, by slot) and p (every edge's
 * local partial ∂v/∂u, by edge index). Text from the data is only ever set as textContent.
 */
var PathgradLive = (function () {
  "use strict";

  // pathgrad's conventions (numeric/evaluate.py MPAlgebra): undefined is NaN, never ±Infinity
  var KINK = 1e-12;
  var pg = {
    sigmoid: function (x) { return 1 / (1 + Math.exp(-x)); },
    relu: function (x) { return x > KINK ? x : (x <= KINK ? 0 : NaN); },
    softplus: function (x) {
      return x < 50 ? Math.log1p(Math.exp(x)) : x + Math.log1p(Math.exp(-x));
    },
    // a kink's argument within KINK of 0 is 0: exact decimal inputs (0.1·0.2 + 0.3·0.4 − 0.14)
    // that pathgrad computes exactly as 0 come out of double arithmetic as ±3e-17
    step: function (x, atZero) {
      return x > KINK ? 1 : (x < -KINK ? 0 : (x === x ? atZero : NaN));
    },
    sign: function (x) { return x > KINK ? 1 : (x < -KINK ? -1 : (x === x ? 0 : NaN)); },
    log: function (x) { return x > 0 ? Math.log(x) : NaN; },
    powi: function (b, n) { return (b === 0 && n < 0) ? NaN : Math.pow(b, n); },
    powq: function (b, n, d) {
      if (b < 0) { return NaN; }  // the principal root, as sympy: (-8)^(1/3) is complex
      if (b === 0 && n < 0) { return NaN; }
      var r = Math.pow(b, 1 / d);
      if (d === 2) { r = Math.sqrt(b); }
      if (d === 3) { r = Math.cbrt(b); }
      return Math.pow(r, n);
    },
    pow: function (b, e) {  // as sympy: (-2)^(-2) = 1/4, 0^0 = 1; complex or infinite: NaN
      var ok = b > 0 || (b < 0 && e === Math.round(e)) || (b === 0 && e >= 0);
      return ok ? Math.pow(b, e) : NaN;
    },
    re: function (x) { return x; },
    im: function (x) { return x === x ? 0 : NaN; },
    arg: function (x) { return x >= 0 ? 0 : (x < 0 ? Math.PI : NaN); }
  };

  var MINUS = "\u2212";

  function fmt(x, digits) {
    if (typeof x !== "number" || !isFinite(x)) { return "\u2014"; }
    var s = x.toPrecision(digits || 6), end = s.length;
    if (s.indexOf("e") < 0 && s.indexOf(".") >= 0) {  // 0.500000 → 0.5, 2.00000 → 2
      while (s.charCodeAt(end - 1) === 48) { end--; }
      if (s.charCodeAt(end - 1) === 46) { end--; }
      s = s.slice(0, end);
    }
    return s.charCodeAt(0) === 45 ? MINUS + s.slice(1) : s;
  }
  function paren(x) { var s = fmt(x); return (x < 0) ? "(" + s + ")" : s; }
  function pct(x) {
    if (typeof x !== "number" || !isFinite(x)) { return "\u2014"; }
    var s = (x * 100).toFixed(Math.abs(x) < 0.001 ? 3 : 1) + "%";
    return x < 0 ? MINUS + s.slice(1) : "+" + s;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function mount(root, data, model, options) {
    options = options || {};
    var n = data.names.length, nEdges = data.edges.length;
    var v = new Float64Array(n), p = new Float64Array(nEdges);
    var T = new Float64Array(n), D = new Float64Array(n);  // forward tangents, deltas
    var pathVal = new Float64Array(data.paths.length), flow = new Float64Array(nEdges);
    var state = { gradient: NaN, pathSum: NaN, selection: null, mode: "reverse", done: 0,
                  timer: null };
    var q = function (sel) { return root.querySelector(sel); };
    var qa = function (sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); };
    var onPathSet = {};  // index of `order`
    data.order.forEach(function (s, i) { onPathSet[s] = i; });

    // ---------- names shown as base + subscript/superscript ----------
    function nameNode(slot) {
      var lab = data.labels[slot], span = el("span", "pg-name");
      span.appendChild(document.createTextNode(lab[0]));
      if (lab[1]) { span.appendChild(el("sub", null, lab[1])); }
      if (lab[2]) { span.appendChild(el("sup", null, lab[2])); }
      return span;
    }
    function symNode(sym, slot) {  // δ_a11, ṫ_a11
      var s = el("span", "pg-sym");
      s.appendChild(document.createTextNode(sym));
      var sub = el("sub");
      sub.appendChild(nameNode(slot));
      s.appendChild(sub);
      return s;
    }
    function leibnizNode(top, bottom) {
      var s = el("span", "pg-leibniz");
      s.appendChild(document.createTextNode("\u2202"));
      s.appendChild(nameNode(top));
      s.appendChild(document.createTextNode("/\u2202"));
      s.appendChild(nameNode(bottom));
      return s;
    }

    // ---------- the picture ----------
    var svg = q("svg");
    var edgeEls = new Array(nEdges), nodeEls = new Array(n), hitEls = new Array(nEdges);
    var slotOf = {};
    data.names.forEach(function (name, i) { slotOf[name] = i; });
    var edgeOf = {};
    data.edges.forEach(function (e, k) { edgeOf[e[0] + " " + e[1]] = k; });
    var valueText = new Array(n), deltaText = new Array(n);
    if (svg) {
      qa("svg path.edge").forEach(function (e) {
        var u = slotOf[e.getAttribute("data-source")], w = slotOf[e.getAttribute("data-target")];
        var k = edgeOf[u + " " + w];
        if (k !== undefined) { edgeEls[k] = e; }
      });
      qa("svg g.node").forEach(function (g) {
        var s = slotOf[g.getAttribute("data-name")];
        if (s !== undefined) { nodeEls[s] = g; }
      });
      var NS = "http://www.w3.org/2000/svg";
      var defs = svg.querySelector("defs") || svg.insertBefore(document.createElementNS(NS, "defs"), svg.firstChild);
      [["pos", "#d9480f"], ["neg", "#1c6fd1"], ["off", "#b8bec5"]].forEach(function (m) {
        var mk = document.createElementNS(NS, "marker");
        mk.setAttribute("id", data.prefix + "pg-arrow-" + m[0]);
        mk.setAttribute("viewBox", "0 0 10 10"); mk.setAttribute("refX", "9");
        mk.setAttribute("refY", "5"); mk.setAttribute("markerUnits", "userSpaceOnUse");
        mk.setAttribute("markerWidth", "11"); mk.setAttribute("markerHeight", "11");
        mk.setAttribute("orient", "auto-start-reverse");
        var tip = document.createElementNS(NS, "path");
        tip.setAttribute("d", "M0,0 L10,5 L0,10 z"); tip.setAttribute("fill", m[1]);
        mk.appendChild(tip); defs.appendChild(mk);
      });
      // wide invisible twins of the edges, so a thin edge is easy to click
      var firstNode = svg.querySelector("g.node");
      var hits = document.createElementNS(NS, "g");
      hits.setAttribute("class", "pg-hits");
      edgeEls.forEach(function (e, k) {
        if (!e) { return; }
        var h = document.createElementNS(NS, "path");
        h.setAttribute("d", e.getAttribute("d"));
        h.setAttribute("class", "pg-hit");
        h.setAttribute("data-edge", String(k));
        hits.appendChild(h); hitEls[k] = h;
      });
      var layer = document.createElementNS(NS, "g");
      layer.setAttribute("class", "pg-node-numbers");
      nodeEls.forEach(function (g, s) {
        if (!g) { return; }
        var box = shapeBox(g);
        if (!box) { return; }
        var t = document.createElementNS(NS, "text");
        t.setAttribute("class", "pg-node-value");
        t.setAttribute("x", String(box.cx)); t.setAttribute("y", String(box.bottom + 11));
        t.setAttribute("text-anchor", "middle");
        layer.appendChild(t); valueText[s] = t;
        var d = document.createElementNS(NS, "text");
        d.setAttribute("class", "pg-node-delta");
        d.setAttribute("x", String(box.cx)); d.setAttribute("y", String(box.top - 4));
        d.setAttribute("text-anchor", "middle");
        layer.appendChild(d); deltaText[s] = d;
      });
      if (firstNode) {
        svg.insertBefore(hits, firstNode);
      } else { svg.appendChild(hits); }
      svg.appendChild(layer);
      // the picture's own legend says "red: the weight's paths"; here colour is the sign of
      // what the paths add (the page's legend says so): hide it and give back its room
      var legend = svg.querySelector("g.legend");
      var box = legend && legend.getBBox ? legend.getBBox() : null;
      if (legend) { legend.style.display = "none"; }
      var hgt = parseFloat(svg.getAttribute("height"));
      var vb0 = (svg.getAttribute("viewBox") || "").split(/[ ,]+/).map(Number);
      if (box && box.height > 0 && vb0.length === 4 && box.y > vb0[3] / 2) {
        var cut = vb0[1] + vb0[3] - (box.y - 6);
        vb0[3] -= cut; svg.setAttribute("viewBox", vb0.join(" "));
        svg.setAttribute("height", String(hgt - cut));
      }
      hgt = parseFloat(svg.getAttribute("height"));
      // fit the picture to its box, but never below 60%: a big net scrolls instead of
      // shrinking its labels past reading
      var fitWidth = parseFloat(svg.getAttribute("width"));
      var fit = function () {
        var room = svg.parentNode ? svg.parentNode.clientWidth - 2 : 0;
        if (!room || !isFinite(fitWidth)) { return; }
        var scale = Math.max(0.6, Math.min(1, room / fitWidth));
        svg.style.maxWidth = "none";
        svg.style.width = (fitWidth * scale).toFixed(0) + "px";
        svg.style.height = "auto";
      };
      fit();
      if (typeof ResizeObserver === "function" && svg.parentNode) {
        new ResizeObserver(fit).observe(svg.parentNode);
      }
      var vb = (svg.getAttribute("viewBox") || "").split(/[ ,]+/).map(Number);
      if (vb.length === 4 && isFinite(hgt)) {  // room for the numbers under the bottom row
        vb[3] += 10; svg.setAttribute("viewBox", vb.join(" "));
        svg.setAttribute("height", String(hgt + 10));
      }
    }
    function shapeBox(g) {
      var s = g.querySelector("rect, circle, ellipse");
      if (!s) { return null; }
      var dx = 0, dy = 0, m = /translate\(\s*([-\d.e]+)[ ,]+([-\d.e]+)/.exec(g.getAttribute("transform") || "");
      if (m) { dx = parseFloat(m[1]); dy = parseFloat(m[2]); }
      var a = function (k) { return parseFloat(s.getAttribute(k)) || 0; };
      if (s.tagName.toLowerCase() === "rect") {
        return { cx: dx + a("x") + a("width") / 2, top: dy + a("y"), bottom: dy + a("y") + a("height") };
      }
      var ry = s.tagName.toLowerCase() === "circle" ? a("r") : a("ry");
      return { cx: dx + a("cx"), top: dy + a("cy") - ry, bottom: dy + a("cy") + ry };
    }

    // ---------- the leaves' inputs ----------
    var leafBoxes = {}, sliders = {};
    qa("input[data-leaf]").forEach(function (box) { leafBoxes[box.getAttribute("data-leaf")] = box; });
    qa("input[data-slider]").forEach(function (s) { sliders[s.getAttribute("data-slider")] = s; });
    data.leaves.forEach(function (leaf) {
      v[leaf.slot] = leaf.value === null ? NaN : leaf.value;
    });
    function decimals(stepText) {
      var i = stepText.indexOf(".");
      return i < 0 ? 0 : stepText.length - i - 1;
    }
    data.leaves.forEach(function (leaf) {
      var name = data.names[leaf.slot], box = leafBoxes[name], slider = sliders[name];
      if (box) {
        box.addEventListener("input", function () {
          var x = box.value.trim() === "" ? NaN : Number(box.value);
          if (box.value.trim() !== "" && !isFinite(x)) { box.classList.add("pg-bad"); return; }
          box.classList.remove("pg-bad");
          v[leaf.slot] = x;
          if (slider && isFinite(x)) { widen(slider, x); slider.value = String(x); }
          changed(true);
        });
      }
      if (slider) {
        slider.addEventListener("input", function () {
          var x = Number(Number(slider.value).toFixed(decimals(slider.getAttribute("step") || "0.01")));
          v[leaf.slot] = x;
          if (box) { box.value = String(x); box.classList.remove("pg-bad"); }
          changed(true);
        });
      }
    });
    function widen(slider, x) {
      if (x < Number(slider.min)) { slider.min = String(x); }
      if (x > Number(slider.max)) { slider.max = String(x); }
    }
    var resetValues = q(".pg-reset-values");
    if (resetValues) {
      resetValues.addEventListener("click", function () {
        data.leaves.forEach(function (leaf) { setLeaf(leaf.slot, leaf.value === null ? NaN : leaf.value); });
        changed(true);
      });
    }
    function setLeaf(slot, x) {
      var name = data.names[slot], box = leafBoxes[name], slider = sliders[name];
      v[slot] = x;
      if (box) { box.value = isFinite(x) ? String(x) : ""; box.classList.remove("pg-bad"); }
      if (slider && isFinite(x)) { widen(slider, x); slider.value = String(x); }
    }

    // ---------- the paths' rows ----------
    var rows = new Array(data.paths.length);
    var cells = new Array(data.paths.length);
    qa("[data-path]").forEach(function (row) {
      var i = Number(row.getAttribute("data-path")) - 1;
      rows[i] = row;
      cells[i] = { factors: row.querySelector(".pg-factors"), value: row.querySelector(".pg-value"),
                   share: row.querySelector(".pg-pct"), bar: row.querySelector(".pg-bar") };
    });
    var pathNodes = data.paths.map(function (edges) {
      var nodes = edges.length ? [data.edges[edges[0]][0]] : [];
      edges.forEach(function (k) { nodes.push(data.edges[k][1]); });
      return nodes;
    });
    var gradientEl = q("#gradient"), sumEl = q(".pg-path-sum"), selEl = q(".pg-selection");
    var infoEl = q(".pg-info");

    // ---------- the arithmetic ----------
    function compute() {
      model(v, p, pg);
      var order = data.order, kids = data.kids, parents = data.parents, i, j, s, e, acc;
      for (i = 0; i < order.length; i++) {
        s = order[i];
        if (i === 0) { T[s] = 1; continue; }
        acc = 0;
        for (j = 0; j < parents[i].length; j++) { e = parents[i][j]; acc += p[e] * T[data.edges[e][0]]; }
        T[s] = acc;
      }
      for (i = order.length - 1; i >= 0; i--) {
        s = order[i];
        if (i === order.length - 1) { D[s] = 1; continue; }
        acc = 0;
        for (j = 0; j < kids[i].length; j++) { e = kids[i][j]; acc += D[data.edges[e][1]] * p[e]; }
        D[s] = acc;
      }
      state.gradient = order.length ? D[order[0]] : 0;
      var sum = 0;
      for (i = 0; i < data.paths.length; i++) {
        var prod = 1, path = data.paths[i];
        for (j = 0; j < path.length; j++) { prod *= p[path[j]]; }
        pathVal[i] = prod; sum += prod;
      }
      state.pathSum = sum;
      if (isNaN(v[data.loss])) {  // where the loss is undefined, so is its derivative
        for (i = 0; i < order.length; i++) { D[order[i]] = NaN; }
        for (i = 0; i < data.paths.length; i++) { pathVal[i] = NaN; }
        state.gradient = state.pathSum = NaN;
      }
      for (e = 0; e < nEdges; e++) {
        var uv = data.edges[e];
        flow[e] = (uv[0] in onPathSet && uv[1] in onPathSet) ? T[uv[0]] * p[e] * D[uv[1]] : 0;
      }
    }

    // ---------- drawing the numbers ----------
    // Only what changed is written: with thousands of rows, every needless write costs style
    // and layout work in the browser.
    var last = { rowValue: [], rowFactors: [], rowText: [], rowShare: [], rowBar: [], rowSign: [],
                 nodeText: [], edgeSign: [], edgeWidth: [], labelText: [], deltaText: [] };
    function put(cache, i, value, write) {
      if (cache[i] !== value) { cache[i] = value; write(value); }
    }
    var labelEls = [];
    qa("svg text.edge-label").forEach(function (t) {
      var k = edgeOf[slotOf[t.getAttribute("data-source")] + " " + slotOf[t.getAttribute("data-target")]];
      if (k !== undefined) { labelEls.push([t, k]); }
    });
    // a row's numbers are written when it is on screen (or comes into view): with 10,000
    // paths that is a few dozen rows per move instead of all of them; data-value always is
    var visible = new Uint8Array(rows.length), stale = new Uint8Array(rows.length);
    function setValue(row) { return function (x) { row.setAttribute("data-value", x); }; }
    function rowText(i) {
      var c = cells[i], val = pathVal[i], path = data.paths[i], parts = [], k;
      stale[i] = 0;
      for (k = path.length - 1; k >= 0; k--) { parts.push(paren(p[path[k]])); }
      if (c.factors) { put(last.rowFactors, i, parts.join(" \u00b7 "), function (x) { c.factors.textContent = x; }); }
      if (c.value) {
        put(last.rowText, i, fmt(val, 9), function (x) { c.value.textContent = x; });
        put(last.rowSign, i, val < 0, function (x) {
          c.value.classList.toggle("pg-neg", x);
          if (c.bar) { c.bar.className = "pg-bar " + (x ? "pg-bar-neg" : "pg-bar-pos"); }
        });
      }
      var share = val / state.gradient;
      if (c.share) { put(last.rowShare, i, pct(share), function (x) { c.share.textContent = x; }); }
      if (c.bar) {
        var width = (isFinite(share) ? Math.min(100, Math.abs(share) * 100) : 0).toFixed(1) + "%";
        put(last.rowBar, i, width, function (x) { c.bar.style.width = x; });
      }
    }
    if (typeof IntersectionObserver === "function" && rows.length > 50) {
      var watcher = new IntersectionObserver(function (entries) {
        entries.forEach(function (en) {
          var i = Number(en.target.getAttribute("data-path")) - 1;
          visible[i] = en.isIntersecting ? 1 : 0;
          if (visible[i] && stale[i]) { rowText(i); }
        });
      }, { rootMargin: "400px 0px" });
      rows.forEach(function (row) { if (row) { watcher.observe(row); } });
    } else {
      visible.fill(1);
    }
    function show() {
      var g = state.gradient, i, k;
      if (gradientEl) {
        gradientEl.setAttribute("data-value", String(g));
        gradientEl.textContent = fmt(g, 9);
      }
      if (sumEl) { sumEl.textContent = fmt(state.pathSum, 9); }
      for (i = 0; i < rows.length; i++) {
        if (!rows[i]) { continue; }
        put(last.rowValue, i, String(pathVal[i]), setValue(rows[i]));
        if (visible[i]) { rowText(i); } else { stale[i] = 1; }
      }
      for (i = 0; i < n; i++) {
        if (nodeEls[i]) { nodeEls[i].setAttribute("data-value", String(v[i])); }
        if (valueText[i]) {
          var t = valueText[i];
          put(last.nodeText, i, fmt(v[i], 4), function (x) { t.textContent = x; });
        }
      }
      var most = 0;
      for (k = 0; k < nEdges; k++) { if (isFinite(flow[k])) { most = Math.max(most, Math.abs(flow[k])); } }
      for (k = 0; k < nEdges; k++) {
        var edge = edgeEls[k];
        if (!edge) { continue; }
        var uv = data.edges[k], onPath = uv[0] in onPathSet && uv[1] in onPathSet;
        var f = flow[k], sign = !onPath ? "off" : (f < 0 ? "neg" : "pos");
        put(last.edgeSign, k, sign, function (x) {
          edge.classList.toggle("pg-pos", x === "pos");
          edge.classList.toggle("pg-neg", x === "neg");
          edge.classList.toggle("pg-off", x === "off");
          edge.setAttribute("marker-end", "url(#" + data.prefix + "pg-arrow-" + x + ")");
        });
        var w = onPath ? 1.6 + 7 * (most > 0 && isFinite(f) ? Math.abs(f) / most : 0) : 1.2;
        put(last.edgeWidth, k, w.toFixed(1), function (x) { edge.style.strokeWidth = x + "px"; });
      }
      labelEls.forEach(function (pair, j) {
        put(last.labelText, j, fmt(p[pair[1]], 4), function (x) { pair[0].textContent = x; });
      });
      if (selEl) { describeSelection(selectedPaths()); }
      showSteps();
    }

    function changed(fromUser) {
      compute();
      show();
      if (fromUser && options.onValues) { options.onValues(values()); }
    }
    function values() {
      var out = {};
      data.leaves.forEach(function (leaf) {
        var x = v[leaf.slot];
        out[data.names[leaf.slot]] = isFinite(x) ? x : null;
      });
      return out;
    }

    // ---------- selection: a node, an edge or a path ----------
    function selectedPaths() {
      var sel = state.selection, out = [], i;
      if (!sel) { return null; }
      for (i = 0; i < data.paths.length; i++) {
        if (sel.kind === "path" ? i === sel.index
            : sel.kind === "edge" ? data.paths[i].indexOf(sel.index) >= 0
              : pathNodes[i].indexOf(sel.index) >= 0) { out.push(i); }
      }
      return out;
    }
    function showSelection() {
      var chosen = selectedPaths(), lit = {}, litNodes = {}, i, k;
      if (chosen === null) {
        for (k = 0; k < nEdges; k++) {
          var uv = data.edges[k];
          if (uv[0] in onPathSet && uv[1] in onPathSet) { lit[k] = true; }
        }
      } else {
        chosen.forEach(function (i) {
          data.paths[i].forEach(function (k) { lit[k] = true; });
          pathNodes[i].forEach(function (s) { litNodes[s] = true; });
        });
      }
      for (k = 0; k < nEdges; k++) {
        if (edgeEls[k]) {
          edgeEls[k].classList.toggle("on-path", !!lit[k]);
          edgeEls[k].classList.toggle("pg-faded", chosen !== null && !lit[k]);
        }
      }
      for (i = 0; i < n; i++) {
        if (!nodeEls[i]) { continue; }
        var sel = state.selection;
        nodeEls[i].classList.toggle("pg-selected", !!sel && sel.kind === "node" && sel.index === i);
        nodeEls[i].classList.toggle("pg-faded", chosen !== null && !litNodes[i]);
      }
      var hide = chosen === null ? null : {};
      if (chosen) { chosen.forEach(function (i) { hide[i] = true; }); }
      for (i = 0; i < rows.length; i++) {
        if (!rows[i]) { continue; }
        var hidden = hide !== null && !hide[i] && !(state.selection.kind === "path");
        if (hidden) { rows[i].setAttribute("hidden", ""); } else { rows[i].removeAttribute("hidden"); }
        rows[i].classList.toggle("pg-chosen", !!(state.selection && state.selection.kind === "path" && state.selection.index === i));
      }
      if (selEl) { describeSelection(chosen); }
    }
    function describeSelection(chosen) {
      selEl.textContent = "";
      var clear = q(".pg-clear");
      if (clear) { clear.hidden = chosen === null; }
      if (chosen === null) {
        selEl.appendChild(document.createTextNode("Click a node, an edge or a row to see the paths through it."));
        return;
      }
      var sel = state.selection, total = 0;
      chosen.forEach(function (i) { total += pathVal[i]; });
      var what = el("strong");
      if (sel.kind === "node") { what.appendChild(nameNode(sel.index)); }
      else if (sel.kind === "edge") {
        what.appendChild(nameNode(data.edges[sel.index][0]));
        what.appendChild(document.createTextNode(" \u2192 "));
        what.appendChild(nameNode(data.edges[sel.index][1]));
      } else { what.textContent = "path " + (sel.index + 1); }
      if (sel.kind === "path") {
        selEl.appendChild(what);
        selEl.appendChild(document.createTextNode(": "));
        describePath(sel.index, selEl);
        return;
      }
      var count = chosen.length, all = data.paths.length;
      selEl.appendChild(document.createTextNode(count + " of " + all + " path" + (all === 1 ? "" : "s") + " go through "));
      selEl.appendChild(what);
      if (count === 0) {
        selEl.appendChild(document.createTextNode(": it is not on a path from "));
        selEl.appendChild(nameNode(data.weight));
        selEl.appendChild(document.createTextNode(" to "));
        selEl.appendChild(nameNode(data.loss));
        selEl.appendChild(document.createTextNode(", so it adds nothing to the gradient."));
        return;
      }
      selEl.appendChild(document.createTextNode("; together they give "));
      selEl.appendChild(el("strong", "pg-num", fmt(total, 6)));
      selEl.appendChild(document.createTextNode(" = " + pct(total / state.gradient).replace("+", "") + " of "));
      selEl.appendChild(leibnizNode(data.loss, data.weight));
      selEl.appendChild(document.createTextNode(" = " + fmt(state.gradient, 6) + "."));
      if (sel.kind === "edge") {
        var k = sel.index, line = el("div", "pg-formula");
        line.appendChild(leibnizNode(data.edges[k][1], data.edges[k][0]));
        line.appendChild(document.createTextNode(" = " + data.partials[k] + " = " + fmt(p[k], 6)));
        selEl.appendChild(line);
      }
    }
    function describePath(i, into) {
      var path = data.paths[i], k, line = el("div", "pg-formula");
      for (k = path.length - 1; k >= 0; k--) {
        line.appendChild(leibnizNode(data.edges[path[k]][1], data.edges[path[k]][0]));
        if (k) { line.appendChild(document.createTextNode(" \u00b7 ")); }
      }
      into.appendChild(line);
      var sym = [], num = [];
      for (k = path.length - 1; k >= 0; k--) {
        var t = data.partials[path[k]];
        sym.push(/[+\u2212 ]/.test(t) && t.length > 1 ? "(" + t + ")" : t);
        num.push(paren(p[path[k]]));
      }
      into.appendChild(el("div", "pg-formula", "= " + sym.join(" \u00b7 ")));
      into.appendChild(el("div", "pg-formula", "= " + num.join(" \u00b7 ") + " = " + fmt(pathVal[i], 9)
        + " (" + pct(pathVal[i] / state.gradient) + " of the gradient)"));
    }
    function select(kind, index) {
      var sel = state.selection;
      state.selection = (sel && sel.kind === kind && sel.index === index) ? null : { kind: kind, index: index };
      showSelection();
    }
    nodeEls.forEach(function (g, s) {
      if (!g) { return; }
      g.addEventListener("click", function (ev) { ev.stopPropagation(); select("node", s); });
      g.addEventListener("mouseenter", function () { hover("node", s); });
      g.addEventListener("mouseleave", function () { hover(null); });
    });
    hitEls.forEach(function (h, k) {
      if (!h) { return; }
      h.addEventListener("click", function (ev) { ev.stopPropagation(); select("edge", k); });
      h.addEventListener("mouseenter", function () { hover("edge", k); });
      h.addEventListener("mouseleave", function () { hover(null); });
    });
    edgeEls.forEach(function (e, k) {
      if (!e) { return; }
      e.addEventListener("click", function (ev) { ev.stopPropagation(); select("edge", k); });
    });
    if (svg) { svg.addEventListener("click", function () { if (state.selection) { state.selection = null; showSelection(); } }); }
    rows.forEach(function (row, i) {
      if (!row) { return; }
      row.addEventListener("click", function () { select("path", i); });
      row.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") { ev.preventDefault(); select("path", i); }
      });
    });
    var clearBtn = q(".pg-clear");
    if (clearBtn) { clearBtn.addEventListener("click", function () { state.selection = null; showSelection(); }); }
    function hover(kind, index) {
      if (!infoEl) { return; }
      infoEl.textContent = "";
      if (kind === "node") {
        infoEl.appendChild(nameNode(index));
        var expr = data.exprs[index];
        infoEl.appendChild(document.createTextNode((expr ? " = " + expr : "") + " = " + fmt(v[index], 9)));
        if (index in onPathSet) {
          infoEl.appendChild(document.createTextNode("   \u00b7   "));
          infoEl.appendChild(symNode("\u03b4", index));
          infoEl.appendChild(document.createTextNode(" = "));
          infoEl.appendChild(leibnizNode(data.loss, index));
          infoEl.appendChild(document.createTextNode(" = " + fmt(D[index], 6)));
        }
      } else if (kind === "edge") {
        var uv = data.edges[index];
        infoEl.appendChild(leibnizNode(uv[1], uv[0]));
        infoEl.appendChild(document.createTextNode(" = " + data.partials[index] + " = " + fmt(p[index], 6)));
        if (uv[0] in onPathSet && uv[1] in onPathSet) {
          infoEl.appendChild(document.createTextNode("   \u00b7   the paths through this edge carry "
            + fmt(flow[index], 6) + " (" + pct(flow[index] / state.gradient) + ")"));
        }
      } else {
        infoEl.textContent = "Point at a node or an edge to see its formula and value.";
      }
    }

    // ---------- stepping through backprop (or forward mode) ----------
    var btnNext = q("#step-next"), btnBack = q("#step-back"), btnReset = q("#step-reset");
    var btnPlay = q(".pg-play"), stepNow = q(".pg-step-now"), stepList = q(".pg-step-list");
    var stepCount = q(".pg-step-count");
    function sequence() {
      var steps = state.mode === "reverse" ? data.reverseSteps : data.forwardSteps;
      return steps.map(function (i) { return data.order[i]; });
    }
    function stepTerms(i) {  // i: index in data.order; the edges it adds up
      return state.mode === "reverse" ? data.kids[i] : data.parents[i];
    }
    function showSteps() {
      var seq = sequence(), done = state.done, sym = state.mode === "reverse" ? "\u03b4" : "\u1e6b";
      var attr = state.mode === "reverse" ? "data-delta" : "data-tangent", i, s;
      var doneSet = {}, current = done > 0 ? seq[done - 1] : null;
      for (i = 0; i < done; i++) { doneSet[seq[i]] = true; }
      var stepEdges = {}, doneEdges = {};
      for (i = 0; i < done; i++) {
        stepTerms(onPathSet[seq[i]]).forEach(function (k) {
          doneEdges[k] = true;
          if (i === done - 1) { stepEdges[k] = true; }
        });
      }
      for (s = 0; s < n; s++) {
        var g = nodeEls[s];
        var has = !!doneSet[s], value = state.mode === "reverse" ? D[s] : T[s];
        if (g) {
          g.removeAttribute(attr === "data-delta" ? "data-tangent" : "data-delta");
          if (has) { g.setAttribute(attr, String(value)); } else { g.removeAttribute(attr); }
          g.classList.toggle("pg-done", has);
          g.classList.toggle("pg-current", s === current);
        }
        if (deltaText[s]) {
          var dt = deltaText[s];
          put(last.deltaText, s, has ? sym + " = " + fmt(value, 4) : "", function (x) { dt.textContent = x; });
        }
      }
      for (i = 0; i < nEdges; i++) {
        if (!edgeEls[i]) { continue; }
        edgeEls[i].classList.toggle("pg-step-edge", !!stepEdges[i]);
        edgeEls[i].classList.toggle("pg-step-done", !!doneEdges[i] && !stepEdges[i]);
      }
      if (stepCount) { stepCount.textContent = "step " + done + " of " + seq.length; }
      if (btnBack) { btnBack.disabled = done === 0; }
      if (btnReset) { btnReset.disabled = done === 0; }
      if (btnNext) { btnNext.disabled = done >= seq.length; }
      if (btnPlay) {
        btnPlay.disabled = !seq.length;
        btnPlay.textContent = state.timer ? "\u23f8 pause" : "\u25b6 play";
      }
      if (stepNow) { describeStep(seq, done, sym); }
      if (stepList) {
        stepList.textContent = "";
        for (i = 0; i < done; i++) {
          var li = el("li", i === done - 1 ? "pg-now" : "");
          li.appendChild(stepFormula(seq[i], sym, false));
          stepList.appendChild(li);
        }
      }
    }
    function stepFormula(s, sym, withNumbers) {
      var i = onPathSet[s], terms = stepTerms(i), box = el("span", "pg-formula");
      var value = state.mode === "reverse" ? D[s] : T[s];
      var reverse = state.mode === "reverse";
      box.appendChild(symNode(sym, s));
      box.appendChild(document.createTextNode(" = "));
      if (!terms.length) {
        box.appendChild(document.createTextNode(reverse ? "1 (the loss itself: "
          : "1 (the weight itself: "));
        box.appendChild(leibnizNode(s, s));
        box.appendChild(document.createTextNode(" = 1)"));
        return box;
      }
      terms.forEach(function (k, j) {
        if (j) { box.appendChild(document.createTextNode(" + ")); }
        var other = reverse ? data.edges[k][1] : data.edges[k][0];
        if (reverse) {
          box.appendChild(symNode(sym, other));
          box.appendChild(document.createTextNode("\u00b7"));
          box.appendChild(leibnizNode(other, s));
        } else {
          box.appendChild(leibnizNode(s, other));
          box.appendChild(document.createTextNode("\u00b7"));
          box.appendChild(symNode(sym, other));
        }
      });
      if (withNumbers) {
        var nums = terms.map(function (k) {
          var other = reverse ? data.edges[k][1] : data.edges[k][0];
          var o = reverse ? D[other] : T[other];
          return reverse ? paren(o) + "\u00b7" + paren(p[k]) : paren(p[k]) + "\u00b7" + paren(o);
        });
        box.appendChild(el("br"));
        box.appendChild(document.createTextNode("\u2003= " + nums.join(" + ")));
      }
      box.appendChild(document.createTextNode(" = "));
      box.appendChild(el("strong", "pg-num", fmt(value, 9)));
      return box;
    }
    function describeStep(seq, done, sym) {
      stepNow.textContent = "";
      var reverse = state.mode === "reverse";
      if (!seq.length) {
        stepNow.textContent = data.names[data.loss] + " does not depend on " + data.names[data.weight] + ": nothing to step through.";
        return;
      }
      if (done === 0) {
        stepNow.appendChild(document.createTextNode(reverse
          ? "Backprop computes \u03b4 of every name = \u2202(loss)/\u2202(name), from the loss back to the weight, "
            + "each from the \u03b4s of the names it feeds. Press next \u25b6 (or \u2192) to start."
          : "Forward mode computes \u1e6b of every name = \u2202(name)/\u2202(weight), from the weight on to the loss, "
            + "each from the \u1e6bs of the names it uses. Press next \u25b6 (or \u2192) to start."));
        return;
      }
      var s = seq[done - 1], i = onPathSet[s];
      var head = el("div", "pg-step-head");
      head.appendChild(document.createTextNode("Step " + done + " of " + seq.length + ": "));
      head.appendChild(nameNode(s));
      stepNow.appendChild(head);
      stepNow.appendChild(stepFormula(s, sym, true));
      var terms = stepTerms(i);
      terms.forEach(function (k) {
        var line = el("div", "pg-partial");
        line.appendChild(leibnizNode(data.edges[k][1], data.edges[k][0]));
        line.appendChild(document.createTextNode(" = " + data.partials[k] + " = " + fmt(p[k], 6)));
        stepNow.appendChild(line);
      });
      var count = reverse ? data.pathsToLoss[i] : data.pathsFromWeight[i];
      var many = el("div", "pg-paths-count");
      many.appendChild(symNode(sym, s));
      many.appendChild(document.createTextNode(" stands for " + count + " path"
        + (count === "1" ? "" : "s") + " from "));
      many.appendChild(nameNode(reverse ? s : data.weight));
      many.appendChild(document.createTextNode(" to "));
      many.appendChild(nameNode(reverse ? data.loss : s));
      many.appendChild(document.createTextNode(terms.length > 1
        ? ", yet it adds up only " + terms.length + " terms: the " + (reverse ? "children" : "parents")
          + " already stand for the rest." : "."));
      stepNow.appendChild(many);
      if (done === seq.length) {
        var end = el("div", "pg-step-end");
        var left = el("div", "pg-side");
        left.appendChild(symNode(sym, s));
        left.appendChild(document.createTextNode(" = "));
        left.appendChild(el("strong", "pg-num", fmt(reverse ? D[s] : T[s], 12)));
        left.appendChild(el("div", "pg-note", reverse ? "backprop: " + seq.length + " steps, each edge used once"
          : "forward mode: " + seq.length + " steps, each edge used once"));
        var right = el("div", "pg-side");
        right.appendChild(document.createTextNode("\u03a3 over paths = "));
        right.appendChild(el("strong", "pg-num", fmt(state.pathSum, 12)));
        right.appendChild(el("div", "pg-note", "the " + data.paths.length + " path products added up"));
        end.appendChild(left); end.appendChild(right);
        var same = Math.abs(state.pathSum - state.gradient) <= 1e-9 * Math.max(Math.abs(state.gradient), 1e-300);
        end.appendChild(el("div", "pg-verdict " + (same ? "pg-ok" : "pg-bad"), same
          ? "\u2713 the same number: the sum over paths, without listing a single path"
          : "the two differ by " + fmt(state.pathSum - state.gradient, 3) + " (rounding in double precision)"));
        stepNow.appendChild(end);
      }
    }
    function go(delta) {
      var seq = sequence();
      state.done = Math.max(0, Math.min(seq.length, state.done + delta));
      if (state.done >= seq.length) { stopPlay(); }
      showSteps();
    }
    function stopPlay() { if (state.timer) { clearInterval(state.timer); state.timer = null; } }
    function togglePlay() {
      if (state.timer) { stopPlay(); showSteps(); return; }
      if (state.done >= sequence().length) { state.done = 0; }
      state.timer = setInterval(function () { go(1); }, options.playInterval || 1100);
      go(1);
    }
    if (btnNext) { btnNext.addEventListener("click", function () { stopPlay(); go(1); }); }
    if (btnBack) { btnBack.addEventListener("click", function () { stopPlay(); go(-1); }); }
    if (btnReset) { btnReset.addEventListener("click", function () { stopPlay(); state.done = 0; showSteps(); }); }
    if (btnPlay) { btnPlay.addEventListener("click", togglePlay); }
    qa("input.pg-mode").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (!radio.checked) { return; }
        stopPlay(); state.mode = radio.value; state.done = 0; showSteps();
      });
    });
    var keyTarget = options.keysOnRootOnly ? root : document;
    keyTarget.addEventListener("keydown", function (ev) {
      var t = ev.target, tag = t && t.tagName ? t.tagName.toLowerCase() : "";
      if (tag === "input" || tag === "textarea" || tag === "select" || ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
      if (ev.key === "ArrowRight") { ev.preventDefault(); stopPlay(); go(1); }
      else if (ev.key === "ArrowLeft") { ev.preventDefault(); stopPlay(); go(-1); }
      else if (ev.key === " " || ev.key === "Spacebar") {
        if (tag === "button") { return; }  // the button's own click handles it
        ev.preventDefault(); togglePlay();
      } else if (ev.key === "Escape" && state.selection) { state.selection = null; showSelection(); }
    });

    hover(null);
    changed(false);
    showSelection();
    return {
      values: values,
      setValues: function (obj) {
        Object.keys(obj).forEach(function (name) {
          var s = slotOf[name];
          if (s === undefined || !leafBoxes[name]) { return; }
          var x = obj[name] === null ? NaN : Number(obj[name]);
          setLeaf(s, x);
        });
        changed(false);
      },
      result: function () {
        var nodes = {};
        data.names.forEach(function (name, i) { if (data.kinds[i] === "node" || data.kinds[i] === "loss") { nodes[name] = isFinite(v[i]) ? v[i] : null; } });
        return { gradient: isFinite(state.gradient) ? state.gradient : null,
                 paths: Array.prototype.map.call(pathVal, function (x) { return isFinite(x) ? x : null; }),
                 node_values: nodes };
      },
      state: state
    };
  }

  return { mount: mount, pg: pg, fmt: fmt };
})();
