// The workbench's one script: while a job is live, refresh its progress block every
// second from /jobs/<id>/progress (server-rendered HTML); reload the page once it is done.
(function () {
  "use strict";
  function poll() {
    var box = document.getElementById("progress");
    if (!box || !box.dataset.poll) { return; }
    fetch(box.dataset.poll, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var fresh = tpl.content.getElementById("progress");
        if (!fresh) { return; }
        box.replaceWith(fresh);
        if (fresh.dataset.poll) {
          setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () { setTimeout(poll, 1000); });
})();
