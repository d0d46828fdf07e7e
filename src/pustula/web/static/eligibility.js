// The enrolment form's live eligibility checklist. The rules are not copied here: the
// server evaluates the protocol on what is typed so far (nothing is saved) and answers
// each criterion's state and reason in words.
(function () {
  "use strict";
  var MARKS = { met: "✓", failed: "✗", pending: "?" };
  var timer = null;

  function apply(criteria) {
    criteria.forEach(function (c) {
      var item = document.querySelector('#checklist li[data-criterion="' + c.id + '"]');
      if (!item) return;
      item.className = c.state === "met" ? "ok" : c.state === "failed" ? "warn" : "pending";
      item.querySelector(".mark").textContent = MARKS[c.state];
      item.querySelector(".reason").textContent = c.reason;
    });
  }

  function check(form) {
    var body = new FormData(form);
    fetch("/subjects/eligibility", {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": body.get("csrf") || "" },
    }).then(function (r) { return r.ok ? r.json() : { criteria: [] }; })
      .then(function (data) { apply(data.criteria); })
      .catch(function () { /* the save checks again; nothing is lost */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("enrol-form");
    if (!form) return;
    function later() { clearTimeout(timer); timer = setTimeout(function () { check(form); }, 250); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    check(form);
  });
})();
