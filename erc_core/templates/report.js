// report.html's only script: filters and sort over the rows the page already has (their data-*
// attributes), with the state kept in the URL fragment: #errors&speaker=M&class=2&sort=error-rate
(function () {
  "use strict";
  var list = document.getElementById("dialogues");
  if (!list) { return; }
  var controls = {
    sort: document.getElementById("sort"),
    speaker: document.getElementById("speaker"),
    cls: document.getElementById("class"),
    errors: document.getElementById("errors")
  };
  var status = document.getElementById("status");
  var sections = Array.prototype.slice.call(list.querySelectorAll("section.dialogue"));
  var rowsOf = sections.map(function (section) {
    return Array.prototype.slice.call(section.querySelectorAll("tbody tr"));
  });

  function readFragment() {
    var params = new URLSearchParams(location.hash.slice(1));
    controls.sort.value = params.get("sort") || "order";
    controls.speaker.value = params.get("speaker") || "";
    controls.cls.value = params.get("class") || "";
    if (controls.errors) { controls.errors.checked = params.has("errors"); }
  }

  function writeFragment() {
    var params = new URLSearchParams();
    if (controls.errors && controls.errors.checked) { params.set("errors", "1"); }
    if (controls.speaker.value) { params.set("speaker", controls.speaker.value); }
    if (controls.cls.value) { params.set("class", controls.cls.value); }
    if (controls.sort.value !== "order") { params.set("sort", controls.sort.value); }
    try { history.replaceState(null, "", "#" + params.toString()); } catch (error) { /* file:// may refuse */ }
  }

  function shows(row, speaker, cls, errorsOnly) {
    return (!speaker || row.getAttribute("data-speaker") === speaker) &&
      (!cls || row.getAttribute("data-gold") === cls || row.getAttribute("data-predicted") === cls) &&
      (!errorsOnly || row.classList.contains("error"));
  }

  function filter() {
    var speaker = controls.speaker.value, cls = controls.cls.value;
    var errorsOnly = Boolean(controls.errors && controls.errors.checked);
    var dialogues = 0, utterances = 0, total = 0;
    sections.forEach(function (section, i) {
      var visible = 0;
      rowsOf[i].forEach(function (row) {
        var show = shows(row, speaker, cls, errorsOnly);
        row.hidden = !show;
        visible += show ? 1 : 0;
      });
      section.hidden = visible === 0;
      dialogues += visible ? 1 : 0;
      utterances += visible;
      total += rowsOf[i].length;
    });
    status.textContent = "showing " + dialogues + " of " + sections.length + " dialogues, " +
      utterances.toLocaleString("en-US") + " of " + total.toLocaleString("en-US") + " utterances";
  }

  function sort() {
    var key = controls.sort.value;
    var ordered = sections.slice().sort(function (a, b) {
      var byPosition = Number(a.getAttribute("data-position")) - Number(b.getAttribute("data-position"));
      var byRate = Number(b.getAttribute("data-error-rate")) - Number(a.getAttribute("data-error-rate"));
      if (key === "error-rate") { return byRate || byPosition; }
      if (key === "error-rate-ascending") { return -byRate || byPosition; }
      return byPosition;
    });
    ordered.forEach(function (section) { list.appendChild(section); });
  }

  function apply() {
    filter();
    sort();
  }

  Object.keys(controls).forEach(function (name) {
    if (controls[name]) {
      controls[name].addEventListener("change", function () { apply(); writeFragment(); });
    }
  });
  window.addEventListener("hashchange", function () { readFragment(); apply(); });
  readFragment();
  apply();
  document.documentElement.setAttribute("data-ready-ms", String(Math.round(performance.now())));
}());
