// The campaign builder: recount who the campaign reaches as the form changes, and keep the
// progress bar current until the campaign is done. No library; the pages work without it.
(function () {
  "use strict";
  var form = document.getElementById("builder");
  if (form) {
    var target = document.getElementById("reach"), timer = null, asked = 0;
    var recount = function () {
      var params = new URLSearchParams(new FormData(form));
      params.delete("csrf_token");
      params.delete("name");
      var mine = ++asked;
      fetch(form.dataset.reachUrl + "?" + params.toString(), {credentials: "same-origin"})
        .then(function (answer) { return answer.text(); })
        .then(function (html) { if (mine === asked) { target.innerHTML = html; } });
    };
    form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(recount, 200); });
    form.addEventListener("input", function (event) {
      if (event.target.name === "partner_ids") { clearTimeout(timer); timer = setTimeout(recount, 400); }
    });
    var again = document.getElementById("preview-button");
    if (again) { again.hidden = true; }
    recount();
  }
  var box = document.getElementById("progress");
  if (box) {
    var bar = box.querySelector(".bar"), counts = box.querySelector(".counts");
    var poll = function () {
      fetch(box.dataset.progressUrl, {credentials: "same-origin"})
        .then(function (answer) { return answer.json(); })
        .then(function (p) {
          var total = p.total || 1, waiting = p.queued + p.running;
          var spans = bar.querySelectorAll("span");
          spans[0].style.width = (100 * p.done / total).toFixed(1) + "%";
          spans[1].style.width = (100 * p.failed / total).toFixed(1) + "%";
          spans[2].style.width = (100 * waiting / total).toFixed(1) + "%";
          bar.setAttribute("aria-label", p.done + " done, " + p.failed + " failed, " + waiting + " queued of " + p.total);
          counts.querySelector(".done").textContent = p.done + " done";
          counts.querySelector(".failed").textContent = p.failed + " failed";
          counts.querySelector(".queued").textContent = waiting + " queued";
          counts.lastChild.textContent = " of " + p.total;
          var status = document.getElementById("progress-status");
          status.textContent = p.status;
          status.className = "status " + p.status;
          if (p.status === "completed") {
            document.getElementById("progress-note").textContent = "Done: every asset is made.";
          } else if (p.status !== "draft") {
            setTimeout(poll, 1500);
          }
        });
    };
    setTimeout(poll, 1000);
  }
}());
