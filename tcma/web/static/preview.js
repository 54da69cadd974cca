// Live preview on the customize page: after typing stops, post the form's fields (not saved) and
// show the returned picture, with each warning beside the field it concerns.
(function () {
  "use strict";
  var form = document.getElementById("customize-form");
  var image = document.getElementById("preview-image");
  if (!form || !image) { return; }
  var status = document.getElementById("preview-status");
  var timer = null;
  var sequence = 0;

  function fill(list, messages) {
    if (!list) { return; }
    list.textContent = "";
    (messages || []).forEach(function (message) {
      var item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    });
  }

  function show(answer) {
    document.querySelectorAll(".field-warnings").forEach(function (list) { list.textContent = ""; });
    Object.keys(answer.warnings || {}).forEach(function (name) {
      fill(document.getElementById("warn-" + name), answer.warnings[name]);
    });
    Object.keys(answer.errors || {}).forEach(function (name) {
      fill(document.getElementById("warn-" + name), answer.errors[name].split("; "));
    });
    fill(document.getElementById("warn-general"), answer.general);
    if (answer.image) { image.src = answer.image; }
    status.textContent = answer.image ? "Preview of what you typed (not saved yet)."
                                      : "Fix the fields marked above to see the preview.";
  }

  function refresh() {
    var mine = ++sequence;
    status.textContent = "Updating the preview\u2026";
    fetch(form.dataset.previewUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (answer) { if (mine === sequence) { show(answer); } })
      .catch(function () { if (mine === sequence) { status.textContent = "The preview could not be updated."; } });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  var output = document.getElementById("preview-output");
  if (output) { output.addEventListener("change", later); }
  refresh();
}());
