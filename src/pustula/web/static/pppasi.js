// Live PPPASI total and the palm/sole maps. The server scores every save again and its
// score is the one stored. The weights, signs and area bands are not copied here: they
// come from pustula.scoring.pppasi through the page's #pppasi-metadata data block, and the
// arithmetic is the scorer's own, in integer tenths (a test compares the two in Chromium).
(function () {
  "use strict";
  var META = JSON.parse(document.getElementById("pppasi-metadata").textContent);
  var WEIGHT_TENTHS = {};
  META.regions.forEach(function (r) { WEIGHT_TENTHS[r.code] = r.weight_tenths; });
  var SIGNS = META.signs.map(function (s) { return s.code; });
  var EDGES = META.area_band_edges; // lower edges of area scores 2..6

  function areaScore(pct) {
    if (pct === 0) return 0;
    var score = 1;
    for (var i = 0; i < EDGES.length; i++) if (pct >= EDGES[i]) score = i + 2;
    return score;
  }

  // One assessment's total from flat items ({right_palm_erythema: 2, ...}): the same
  // rule the form's live total uses. Null when an item is missing or out of range.
  function scoreItems(items) {
    var total = 0;
    for (var r = 0; r < META.regions.length; r++) {
      var region = META.regions[r].code, sum = 0;
      for (var k = 0; k < SIGNS.length; k++) {
        var v = items[region + "_" + SIGNS[k]];
        if (typeof v !== "number" || v < 0 || v > 4 || Math.floor(v) !== v) return null;
        sum += v;
      }
      var pct = items[region + "_area_pct"];
      if (typeof pct !== "number" || pct < 0 || pct > 100) return null;
      total += sum * areaScore(pct) * WEIGHT_TENTHS[region];
    }
    return total / 10;
  }
  window.pustulaPPPASI = { score: scoreItems, areaScore: areaScore };

  function value(id, low, high, whole) {
    var el = document.getElementById(id);
    if (!el || el.value.trim() === "") return null;
    var v = Number(el.value);
    if (!isFinite(v) || v < low || v > high || (whole && Math.floor(v) !== v)) return null;
    return v;
  }

  function update() {
    var totalTenths = 0, complete = true;
    Object.keys(WEIGHT_TENTHS).forEach(function (region) {
      var sum = 0, ok = true;
      SIGNS.forEach(function (s) {
        var v = value(region + "_" + s, 0, 4, true);
        if (v === null) ok = false; else sum += v;
      });
      var pct = value(region + "_area_pct", 0, 100, false);
      var area = pct === null ? null : areaScore(pct);
      var areaOut = document.querySelector('output[data-area="' + region + '"]');
      var subOut = document.querySelector('output[data-sub="' + region + '"]');
      if (areaOut) areaOut.textContent = area === null ? "–" : String(area);
      if (!ok || area === null) { complete = false; if (subOut) subOut.textContent = "–"; return; }
      var tenths = sum * area * WEIGHT_TENTHS[region];
      totalTenths += tenths;
      if (subOut) subOut.textContent = (tenths / 10).toFixed(1);
    });
    var out = document.getElementById("pppasi-total");
    if (out) out.textContent = complete ? (totalTenths / 10).toFixed(1) : "–";
  }

  function setupMap(svg) {
    var region = svg.getAttribute("data-region");
    var input = document.getElementById(region + "_area_pct");
    var cells = svg.querySelectorAll(".cell");
    var painting = null;
    function refresh() {
      var on = svg.querySelectorAll(".cell.on").length;
      input.value = String(Math.round((100 * on) / cells.length));
      input.dataset.fromMap = input.value; // before the event: the map, not the keyboard, set it
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    function paint(cell) {
      if (!cell || !cell.classList.contains("cell")) return;
      cell.classList.toggle("on", painting);
      refresh();
    }
    svg.addEventListener("pointerdown", function (e) {
      if (!e.target.classList.contains("cell")) return;
      e.preventDefault();
      painting = !e.target.classList.contains("on");
      paint(e.target);
    });
    svg.addEventListener("pointermove", function (e) {
      if (painting === null) return;
      paint(document.elementFromPoint(e.clientX, e.clientY));
    });
    window.addEventListener("pointerup", function () { painting = null; });
    input.addEventListener("input", function () {
      // a typed percentage replaces what was marked on the map
      if (input.dataset.fromMap !== input.value) {
        cells.forEach(function (c) { c.classList.remove("on"); });
        delete input.dataset.fromMap;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("svg.bodymap").forEach(setupMap);
    var form = document.getElementById("pppasi");
    if (form) { form.addEventListener("input", update); form.addEventListener("change", update); }
    update();
  });
})();
