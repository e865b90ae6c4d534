// Progressive enhancement for the marking form: save a draft a moment after each change, through the
// JSON API, with the version the form was loaded at. A newer save from another tab answers 409: the
// message says so and nothing is overwritten. Without JavaScript the Save button does the same.
(function () {
  "use strict";
  var form = document.getElementById("mark-form");
  if (!form || !window.fetch) { return; }
  var url = form.getAttribute("data-autosave");
  var status = form.querySelector(".autosave-status");
  var version = form.querySelector('input[name="version"]');
  var timer = null;
  var stopped = false;

  function payload() {
    var scores = {};
    var data = new FormData(form);
    form.querySelectorAll("fieldset.criterion").forEach(function (fs) {
      var radio = fs.querySelector('input[type="radio"]');
      if (!radio) { return; }
      var slug = radio.name.slice("score-".length);
      var chosen = data.get("score-" + slug);
      scores[slug] = { score: chosen === null ? null : parseInt(chosen, 10), comment: data.get("comment-" + slug) || "" };
    });
    return {
      scores: scores,
      feedback: data.get("feedback") || "",
      version: version.value ? parseInt(version.value, 10) : null,
      rubric_version_id: parseInt(data.get("rubric_version_id"), 10)
    };
  }

  function save() {
    if (stopped) { return; }
    status.textContent = "Saving…";
    fetch(url, {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(payload())
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    }).then(function (res) {
      if (res.ok) {
        version.value = res.body.version;
        status.textContent = "Saved at " + new Date().toLocaleTimeString() + ".";
      } else {
        if (res.status === 409) { stopped = true; }
        status.textContent = (res.body.error && res.body.error.message) || "Not saved.";
      }
    }).catch(function () { status.textContent = "Not saved: check your connection. The Save button still works."; });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  });
  form.addEventListener("submit", function () { clearTimeout(timer); stopped = true; });
}());
