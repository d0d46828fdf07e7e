// Live PPPASI region scores and total, the palm/sole maps, "region clear" and "not done".
// The server scores every save again and its score is the one stored. The weights, signs
// and area bands are not copied here: they come from pustula.scoring.pppasi through the
// page's #pppasi-metadata data block, and the arithmetic is the scorer's own, in integer
// tenths (a browser test compares the two in Chromium).
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

  // Region scores as each region is completed, and the total of the completed ones.
  function update() {
    var totalTenths = 0, done = 0, regions = Object.keys(WEIGHT_TENTHS);
    regions.forEach(function (region) {
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
      if (!ok || area === null) { if (subOut) subOut.textContent = "–"; return; }
      var tenths = sum * area * WEIGHT_TENTHS[region];
      totalTenths += tenths;
      done += 1;
      if (subOut) subOut.textContent = (tenths / 10).toFixed(1);
    });
    var out = document.getElementById("pppasi-total");
    var progress = document.getElementById("pppasi-progress");
    if (out) out.textContent = done === 0 ? "–" : (totalTenths / 10).toFixed(1);
    if (progress) {
      progress.textContent = done === regions.length ? "(0–72, all four regions)"
        : done === 0 ? "(no region complete yet)"
        : "(so far: " + done + " of " + regions.length + " regions complete)";
    }
  }

  function setupMap(svg) {
    var region = svg.getAttribute("data-region");
    var input = document.getElementById(region + "_area_pct");
    var marks = document.getElementById(region + "_map");
    var cells = svg.querySelectorAll(".cell");
    var painting = null;
    function keep() {
      var on = [];
      cells.forEach(function (c, i) { if (c.classList.contains("on")) on.push(i); });
      if (marks) marks.value = on.join(",");
      return on.length;
    }
    function refresh() {
      input.value = String(Math.round((100 * keep()) / cells.length));
      input.dataset.fromMap = input.value; // before the event: the map, not the keyboard, set it
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    function paint(cell) {
      if (!cell || !cell.classList || !cell.classList.contains("cell")) return;
      if (!svg.contains(cell)) return;
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
        keep();
        delete input.dataset.fromMap;
      }
    });
    // marks kept from a save that failed: shown again, with the percentage they gave
    if (marks && marks.value) {
      marks.value.split(",").forEach(function (i) { if (cells[+i]) cells[+i].classList.add("on"); });
      input.dataset.fromMap = input.value;
    }
  }

  function clearRegion(region) {
    SIGNS.forEach(function (s) {
      var el = document.getElementById(region + "_" + s);
      if (el) el.value = "0";
    });
    var pct = document.getElementById(region + "_area_pct");
    if (pct) { pct.value = "0"; pct.dispatchEvent(new Event("input", { bubbles: true })); }
    update();
  }

  // "Not done": the instrument's answers are not sent and cannot be typed.
  function setupNotDone(box) {
    var set = box.closest(".instrument");
    function apply() {
      set.querySelectorAll("input, select, button").forEach(function (el) {
        if (el === box || el.name === box.name + "_reason" || el.name === box.name) return;
        if (el.id === box.id + "_reason") return;
        el.disabled = box.checked;
      });
      var reason = document.getElementById(box.id + "_reason");
      if (reason) reason.closest(".not-done").classList.toggle("active", box.checked);
    }
    box.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("svg.bodymap").forEach(setupMap);
    document.querySelectorAll("button.region-clear").forEach(function (b) {
      b.addEventListener("click", function () { clearRegion(b.getAttribute("data-region")); });
    });
    document.querySelectorAll('.not-done input[type="checkbox"]').forEach(setupNotDone);
    var form = document.getElementById("pppasi");
    if (form) { form.addEventListener("input", update); form.addEventListener("change", update); }
    update();
  });
})();
